"""LocalExecutor: runs in a worker process; a crash, a hang or an exception touches only its own run."""

from __future__ import annotations

import os
import textwrap

import pytest

from tests.conftest import make_spec
from vidbench.models import create_model
from vidbench.run.executors import LocalExecutor
from vidbench.suite.plugins import resolve_plugins

PLUGIN = textwrap.dedent("""\
    import os
    import time

    import torch.nn as nn
    from vidbench import register_model

    PID_FILE = {pid_file!r}


    class Model(nn.Module):
        def __init__(self, num_classes, how):
            super().__init__()
            with open(PID_FILE, "a") as f:  # which process built the model
                f.write(f"{{os.getpid()}}\\n")
            self.fc = nn.Linear(3, num_classes)
            self.how = how

        def forward(self, x):
            if self.how == "abort":
                os.abort()
            if self.how == "sleep":
                time.sleep(120)
            if self.how == "raise":
                raise ValueError("boom: the plugin model refuses")
            return self.fc(x.mean((2, 3, 4)))


    @register_model(family="cnn")
    def exec_ok(num_classes: int = 4):
        return Model(num_classes, "ok")


    @register_model(family="cnn")
    def exec_abort(num_classes: int = 4):
        return Model(num_classes, "abort")


    @register_model(family="cnn")
    def exec_sleep(num_classes: int = 4):
        return Model(num_classes, "sleep")


    @register_model(family="cnn")
    def exec_raise(num_classes: int = 4):
        return Model(num_classes, "raise")
    """)


class Workers:
    """The worker pids that built each model, in order, read from the file the plugin writes."""

    def __init__(self, path):
        self.path = path

    def pids(self) -> list[int]:
        return [int(line) for line in self.path.read_text().split()] if self.path.exists() else []

    def last(self) -> int:
        return self.pids()[-1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("executor")
    (root / "misbehaving.py").write_text(PLUGIN.format(pid_file=str(root / "pids.txt")))
    return root


@pytest.fixture(scope="module")
def ex(folder):
    """One executor for the module (worker start-up is the slow part); every test leaves it usable."""
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)  # workers start here: anything they leave behind stays in the temporary folder
        with LocalExecutor(resolve_plugins(["misbehaving.py"], folder), 120.0) as executor:
            yield executor


@pytest.fixture
def workers(folder):
    return Workers(folder / "pids.txt")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def spec(model: str, **kw):
    return make_spec(model, metrics=("params", "flops"), **kw)


def test_a_real_tiny_spec_runs_ok_in_a_worker(ex):
    tiny = spec("tsn_tiny")
    result = ex.run(tiny)
    assert result.run_id == tiny.run_id
    assert result.status == "ok", result.error
    assert result.error is None
    expected_params = sum(p.numel() for p in create_model("tsn_tiny", num_classes=4).parameters())
    assert result.metrics["params"] == expected_params
    assert result.metrics["gmacs"] > 0 and result.metrics["gflops"] == pytest.approx(2 * result.metrics["gmacs"])
    assert set(result.metrics) == {"params", "gmacs", "gflops", "train_gmacs", "views", "gmacs_per_video"}
    assert result.env["torch"]


def test_runs_happen_in_a_warm_worker_process(ex, workers):
    assert ex.run(spec("exec_ok")).status == "ok"
    assert ex.run(spec("exec_ok", clip_length=8)).status == "ok"
    first, second = workers.pids()[-2:]
    assert first != os.getpid(), "never in the driver"
    assert first == second, "one warm worker serves consecutive runs"


def test_a_model_that_raises_is_failed_and_the_worker_lives_on(ex, workers):
    failed = ex.run(spec("exec_raise"))
    pid = workers.last()
    after = ex.run(spec("exec_ok"))
    assert failed.status == "failed"
    assert failed.error == "ValueError: boom: the plugin model refuses"
    assert failed.metrics == {}
    assert any("boom" in line for line in failed.detail["traceback"])
    assert after.status == "ok", after.error
    assert workers.last() == pid, "an exception does not cost the warm worker"


def test_a_crash_is_contained_and_the_next_run_gets_a_fresh_worker(ex, workers):
    crashed = ex.run(spec("exec_abort"))
    crashed_pid = workers.last()
    after = ex.run(spec("exec_ok"))
    assert crashed.status == "crashed"
    assert "SIGABRT" in crashed.error
    assert crashed.metrics == {}
    assert not _alive(crashed_pid)
    assert after.status == "ok", after.error
    assert workers.last() != crashed_pid


def test_a_hang_times_out_and_the_next_run_gets_a_fresh_worker(ex, workers):
    assert ex.run(spec("exec_ok")).status == "ok"  # the worker is warm: its start-up is not timed below
    timeout_s = ex.timeout_s
    ex.timeout_s = 2.0
    try:
        hung = ex.run(spec("exec_sleep"))
    finally:
        ex.timeout_s = timeout_s
    hung_pid = workers.last()
    after = ex.run(spec("exec_ok", clip_length=8))
    assert hung.status == "timeout"
    assert "timeout_s = 2" in hung.error
    assert 2.0 <= hung.duration_s < 10.0
    assert not _alive(hung_pid), "the hung worker was killed"
    assert after.status == "ok", after.error
    assert workers.last() != hung_pid
