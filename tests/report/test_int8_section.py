"""The report's int8 section on a store whose per-call samples and top-1 are known: the int8 speed-up over fp32
of the same runtime with its interval, the drop beside it (with its interval over seeds), the fastest pair
within the 1-point bound (a faster int8 that drops more is left out, with its drop), the scatter, and the
section leading a quantization suite's report."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import make_spec
from vidbench.report.frame import load_run_folder
from vidbench.report.int8 import DROP_BOUND, int8_view
from vidbench.report.render import render_reports
from vidbench.store import STORE_NAME, ResultStore, RunResult

# model → runtime → (fp32 median s per call, int8 median s per call, fp32 top-1, int8 top-1 per seed)
PLAN = {
    "c3d_tiny": {"onnxruntime": (0.010, 0.005, 100.0, (100.0, 98.0)), "openvino": (0.008, 0.002, 100.0, (99.5, 99.5))},
    "lrcn_tiny": {"onnxruntime": (0.006, 0.003, 90.0, (80.0, 82.0)), "openvino": (0.006, 0.006, 90.0, (90.0, 90.0))},
}


def samples(median: float, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(median * (1 + 0.01 * rng.standard_normal(40)))


def write(folder) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with ResultStore(folder / STORE_NAME) as store:
        store.set_meta("suite_name", "int8-test")
        n = 0
        for model, runtimes in PLAN.items():
            for runtime, (fp32_s, int8_s, fp32_top1, int8_top1s) in runtimes.items():
                for seed, int8_top1 in enumerate(int8_top1s):
                    for precision, median in (("fp32", fp32_s), ("int8", int8_s)):
                        n += 1
                        spec = make_spec(model, runtime=runtime, precision=precision, batch_size=1, seed=seed,
                                         metrics=("latency", "throughput", "accuracy"))
                        calls = samples(median, seed=n)
                        metrics = {"latency_ms_p50": float(np.median(calls)) * 1e3,
                                   "throughput_clips_s": 1 / float(np.median(calls)), "artifact_mb": 0.7,
                                   "top1": fp32_top1, "parity_top1_agree": 100.0}
                        detail = {"inference_s": {"samples": calls}}
                        if precision == "int8":
                            metrics.update(top1=int8_top1, top1_fp32=fp32_top1, top1_delta=int8_top1 - fp32_top1,
                                           artifact_mb=0.2, calibration_s=1.5)
                            detail["int8"] = {"artifact_fp32_mb": 0.7, "calibration": {"clips": 64},
                                              "float_ops": {"quantized": 4, "float": 1}}
                            if runtime == "openvino":
                                detail["int8"]["kernels"] = {"brgconv_avx512_amx_i8": 3, "brgconv_avx512_f32": 1}
                        store.write(spec, RunResult(spec.run_id, "ok", None, metrics, detail), "int8-test")


def test_speed_up_and_drop_per_model_and_runtime(tmp_path):
    write(tmp_path)
    view = int8_view(load_run_folder(tmp_path).frame)
    pairs = view.pairs.set_index(["variant", "runtime"])
    c3d = pairs.loc[("c3d_tiny", "openvino")]
    assert c3d["speedup"] == pytest.approx(4.0, rel=0.02) and c3d["seeds"] == 2  # 8 ms → 2 ms
    assert c3d["top1_delta"] == pytest.approx(-0.5) and c3d["delta_text"] == "-0.5 [-0.5, -0.5]"
    assert c3d["int8_layers"] == "3/4 (AMX)" and c3d["shrink"] == pytest.approx(3.5)
    ort = pairs.loc[("c3d_tiny", "onnxruntime")]
    assert ort["speedup"] == pytest.approx(2.0, rel=0.02) and ort["int8_layers"] == "4/5 quantized"
    assert ort["top1_delta"] == pytest.approx(-1.0)  # mean of -0 and -2 over the two seeds
    lo, hi = ort["delta_text"].split("[")[1].rstrip("]").split(", ")
    assert float(lo) < -1.0 < float(hi)  # a t interval over two seeds
    one = int8_view(load_run_folder(tmp_path).frame.query("seed == 0")).pairs.set_index(["variant", "runtime"])
    text = one.loc[("c3d_tiny", "openvino"), "speedup_text"]
    point, interval = text.split("x [")
    low, high = (float(v) for v in interval.rstrip("]").split(", "))
    assert low <= float(point) <= high and low > 3.5 and high < 4.5  # one seed: the samples' bootstrap interval


def test_the_pick_is_the_fastest_pair_within_the_bound(tmp_path):
    write(tmp_path)
    picks = int8_view(load_run_folder(tmp_path).frame).picks.set_index("variant")
    assert picks.loc["c3d_tiny", "pick"] == "openvino int8"  # 4x, -0.5 points: within 1 point
    # lrcn_tiny: onnxruntime int8 is the fastest (3 ms) but drops 9 points; openvino int8 ties fp32's speed
    assert "onnxruntime int8 (drop -9.0)" in picks.loc["lrcn_tiny", "refused"]
    assert picks.loc["lrcn_tiny", "pick"] in ("openvino int8", "openvino fp32", "onnxruntime fp32")
    assert DROP_BOUND == 1.0


def test_the_section_leads_a_quantization_suites_report_with_its_scatter(tmp_path):
    write(tmp_path)
    render_reports(tmp_path)
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings[0] == "## int8: speed against accuracy"  # the answer first
    assert (tmp_path / "plots" / "int8-speedup-vs-drop.png").exists()
    assert "int8 speed-up over fp32" in md and 'id="int8-picks"' in html


def test_no_section_without_int8_runs(tmp_path):
    folder = tmp_path / "fp32"
    folder.mkdir()
    with ResultStore(folder / STORE_NAME) as store:
        spec = make_spec("c3d_tiny", runtime="onnxruntime", metrics=("latency",))
        store.write(spec, RunResult(spec.run_id, "ok", None, {"latency_ms_p50": 1.0}, {}), "t")
    assert int8_view(load_run_folder(folder).frame) is None
