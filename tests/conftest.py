"""Shared fixtures: tiny specs and suites, and registries that tests may add to without leaking."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# One intra-op thread for the tests and the workers they start. Nothing here measures speed, and on a
# shared 2-core machine OpenMP's spinning threads make tiny ops 10-100x slower when cores are busy.
# Set OMP_NUM_THREADS yourself to override.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from typing import Any  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from vidbench.data.registry import _DATASETS  # noqa: E402
from vidbench.models.registry import _MODELS  # noqa: E402
from vidbench.suite.spec import RunSpec  # noqa: E402

torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

TRAIN = {"epochs": 1, "optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.0, "momentum": 0.9, "batch_size": 4}
BENCH = {"warmup": 1, "repeats": 3}


def make_spec(model: str = "tsn_tiny", **overrides: Any) -> RunSpec:
    """A small, fully resolved RunSpec; any field can be overridden."""
    fields: dict[str, Any] = dict(
        model=model, model_args={}, dataset="random",
        dataset_args={"num_classes": 4, "train_size": 8, "val_size": 4},
        resolution=(16, 16), clip_length=4, frame_stride=1, batch_size=2, device="cpu", precision="fp32",
        compile=False, metrics=("params", "flops"), train=dict(TRAIN), benchmark=dict(BENCH), seed=0,
        family="cnn", arch=model,
    )
    fields.update(overrides)
    return RunSpec(**fields)


@pytest.fixture(scope="session")
def counted_models_cache(tmp_path_factory) -> Path:
    """A `vidbench models` cache counted once per test session: the cold count of every registered model takes
    ~10 s, and the tests of the listing read its records, not the counting (the cache's own key and rebuild
    are tested on a copy). pytest-xdist's workers share one count through a file lock."""
    from filelock import FileLock

    import vidbench.models_listing as listing

    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the session's, shared by workers
    cache = root / "models-cache"
    with FileLock(str(root / "models-cache.lock")):
        if not (cache / "counted").exists():
            with pytest.MonkeyPatch.context() as env:
                env.setenv("VIDBENCH_CACHE_DIR", str(cache))
                listing.model_records()
            (cache / "counted").touch()
    return cache


@pytest.fixture
def models_cache(counted_models_cache, tmp_path, monkeypatch) -> Path:
    """A copy of the session's counted `vidbench models` cache, as $VIDBENCH_CACHE_DIR for this test."""
    copy = tmp_path / "models-cache"
    shutil.copytree(counted_models_cache, copy)
    monkeypatch.setenv("VIDBENCH_CACHE_DIR", str(copy))
    return copy


@pytest.fixture
def spec_factory():
    return make_spec


@pytest.fixture
def isolated_registries(monkeypatch):
    """Models and datasets registered during the test are forgotten afterwards."""
    monkeypatch.setattr(_MODELS, "_entries", dict(_MODELS._entries))
    monkeypatch.setattr(_DATASETS, "_entries", dict(_DATASETS._entries))
    yield


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Benchmarks time a quiet process: with --benchmark-only (or --benchmark-enable) the tests run in this
    one process, whatever the addopts' `-n` says (pytest-xdist would run them two at a time, and
    pytest-benchmark turns itself off under xdist). Runs before xdist's own hook reads the option."""
    wants_benchmarks = config.getoption("benchmark_only", False) or config.getoption("benchmark_enable", False)
    if wants_benchmarks and config.pluginmanager.hasplugin("xdist"):
        config.option.numprocesses = 0


def pytest_configure(config):
    # addopts carry --benchmark-disable (the default run times each benchmark once); asking for
    # --benchmark-only from the repository root means asking for benchmarks: enable them, since
    # pytest-benchmark refuses the two together.
    if config.getoption("benchmark_only", False):
        config.option.benchmark_enable = True
