"""The runner (in-process here): one RunSpec → one RunResult with exactly the metrics asked for."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import make_spec
from vidbench.models import create_model
from vidbench.run.runner import execute, is_out_of_memory
from vidbench.measure.energy import energy_meter
from vidbench.store import METRIC_COLUMNS
from vidbench.suite.schema import METRICS

COLUMNS_OF = {
    "params": {"params"}, "flops": {"gmacs", "gflops"}, "memory": {"peak_mem_mb", "train_peak_mem_mb"},
    "latency": {"latency_ms_p50", "latency_ms_p90"}, "throughput": {"throughput_clips_s"},
    "train_throughput": {"train_throughput_clips_s"}, "accuracy": {"top1", "top5"}, "data_throughput": set(),
    "knn": set(),  # knn_top1 is beyond the contract
    "energy": set(),  # none on a machine without a readable counter (tests/run/test_energy_runs.py fakes one)
    "serving": set(),  # LoadGen's figures are beyond the contract
}
# Figures beyond the contract, derived from the same measurements (on the CPU, with fewer than 100 samples:
# no p99, no MFU).
EXTRAS_OF = {
    "params": set(), "flops": {"train_gmacs", "views", "gmacs_per_video"}, "memory": {"rss_peak_mb", "infer_rss_mb"},
    "latency": {"unstable", "views", "latency_ms_per_video"}, "throughput": {"throughput_frames_s", "unstable",
                                                                            "videos_s", "views"},
    "accuracy": {"train_s", "train_pflops"}, "knn": {"knn_top1"},
    "serving": {"ss_latency_ms_p90", "ms_latency_ms_p99", "server_max_qps", "server_latency_ms_p99", "offline_samples_s",
                "serving_valid"},
    "train_throughput": {"train_throughput_frames_s", "unstable"}, "data_throughput": {"data_throughput_clips_s"},
    # The inference loop runs for energy; its figures only where this CPU's counters (RAPL) can be read.
    "energy": {"unstable", "views"} | ({"energy_j_per_clip", "avg_power_w", "clips_per_kj", "train_energy_j_per_clip",
                                       "train_avg_power_w", "train_clips_per_kj"} if energy_meter("cpu").available
                                      else set()),
}


def tiny(metrics, **kw):
    return make_spec("tsn_tiny", dataset="synthetic-motion",
                     dataset_args={"num_classes": kw.pop("num_classes", 6), "train_size": 8, "val_size": 6},
                     resolution=(16, 16), clip_length=4, batch_size=2, metrics=tuple(metrics), **kw)


def test_every_metric_is_measured_when_asked():
    assert set(COLUMNS_OF) == set(METRICS)
    assert set().union(*COLUMNS_OF.values()) == set(METRIC_COLUMNS)
    # energy lengthens each timed loop to a second of samples (tests/run/test_energy_runs.py covers it); serving
    # runs LoadGen's tests for tens of seconds (tests/measure/test_serving.py covers a whole serving run)
    apart = ("energy", "serving")
    result = execute(tiny([m for m in METRICS if m not in apart]))
    assert result.status == "ok", result.error
    extras = set().union(*(v for k, v in EXTRAS_OF.items() if k not in apart))
    assert set(result.metrics) == set(METRIC_COLUMNS) | extras
    m = result.metrics
    model = create_model("tsn_tiny", num_classes=6)
    assert m["params"] == sum(p.numel() for p in model.parameters())
    assert m["gmacs"] > 0 and m["gflops"] == pytest.approx(2 * m["gmacs"])
    weights_mib = sum(t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()]) / 2**20
    assert m["peak_mem_mb"] > weights_mib
    assert m["train_peak_mem_mb"] > m["peak_mem_mb"]
    assert 0 < m["latency_ms_p50"] <= m["latency_ms_p90"]
    assert m["throughput_clips_s"] > 0 and m["train_throughput_clips_s"] > 0
    assert 0 <= m["top1"] <= m["top5"] <= 100
    # Raw samples are kept, and the figures are computed from them.
    inference = result.detail["inference_s"]
    assert inference["n"] == 3
    assert m["latency_ms_p50"] == pytest.approx(inference["median"] * 1e3)
    assert m["latency_ms_p90"] == pytest.approx(inference["p90"] * 1e3)
    # README: throughput is the batch size over the median time of the same samples.
    assert m["throughput_clips_s"] == pytest.approx(2 / inference["median"])
    assert m["throughput_frames_s"] == pytest.approx(4 * m["throughput_clips_s"])  # 4 frames per clip
    assert m["train_gmacs"] > 2 * m["gmacs"]  # backward costs about twice the forward
    assert m["unstable"] == any(result.detail[k]["unstable"] for k in ("inference_s", "video_s", "train_step_s"))
    train_step = result.detail["train_step_s"]
    assert train_step["n"] == 3
    assert m["train_throughput_clips_s"] == pytest.approx(2 / train_step["median"])
    assert len(result.detail["train_losses"]) == 1 and result.detail["val_samples"] == 6
    assert result.env["torch"] == torch.__version__ and result.env["device"] == "cpu"
    assert result.duration_s > 0


@pytest.mark.parametrize("metric", ["params", "flops", "memory", "latency", "throughput", "train_throughput",
                                    "data_throughput"])
def test_only_the_metrics_asked_for_are_filled(metric):
    result = execute(tiny([metric]))
    assert result.status == "ok", result.error
    assert set(result.metrics) == COLUMNS_OF[metric] | EXTRAS_OF[metric]


def test_no_top5_with_five_classes_or_fewer():
    result = execute(tiny(["accuracy"], num_classes=4))
    assert set(result.metrics) == {"top1", "train_s", "train_pflops"}


def test_a_run_is_reproducible_from_its_seed():
    a = execute(tiny(["params", "accuracy"]))
    b = execute(tiny(["params", "accuracy"]))
    wall = {"train_s"}  # the training's wall time is measured, not computed
    assert {k: v for k, v in a.metrics.items() if k not in wall} == {k: v for k, v in b.metrics.items() if k not in wall}
    assert a.detail["train_losses"] == b.detail["train_losses"]


def test_a_failing_run_becomes_a_failed_result():
    result = execute(tiny(["params"], model_args={"consensus": "median"}))
    assert result.status == "failed"
    assert result.error.startswith("ValueError: ") and "'median'" in result.error
    assert "\n" not in result.error
    assert result.metrics == {}
    assert result.detail["error_class"] == "ValueError" and result.detail["traceback"]


def test_out_of_memory_is_recognised():
    assert is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"))
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: not enough memory: you tried to allocate "
                                         "1 bytes. Out of memory"))
    assert not is_out_of_memory(ValueError("bad shape"))


def test_per_video_figures_run_all_views_of_one_video_in_one_batch():
    """test_clips × test_crops views per video: GMACs per video are the views' GMACs, and the per-video
    latency is one batch of all views (the run's own timing when its batch is one video's views)."""
    spec = make_spec("c3d_tiny", dataset_args={"num_classes": 4, "test_clips": 2, "test_crops": 3}, batch_size=1,
                     metrics=("flops", "latency", "throughput"), benchmark={"warmup": 1, "repeats": 5})
    result = execute(spec)
    m = result.metrics
    assert result.status == "ok" and m["views"] == 6
    assert m["gmacs_per_video"] == pytest.approx(6 * m["gmacs"])
    assert m["videos_s"] == pytest.approx(1e3 / m["latency_ms_per_video"])
    assert len(result.detail["video_s"]["samples"]) >= 5 and m["latency_ms_per_video"] > m["latency_ms_p50"]
    one = execute(make_spec("c3d_tiny", batch_size=1, metrics=("latency", "throughput"),
                            benchmark={"warmup": 1, "repeats": 5}))
    assert one.metrics["views"] == 1 and one.metrics["latency_ms_per_video"] == one.metrics["latency_ms_p50"]
