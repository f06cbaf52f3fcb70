"""The report's runtimes section, on a store whose per-call samples are known: the speed-up over eager
with its interval, the fastest runtime that keeps parity (a faster mismatching one is never picked), a
tie when two runtimes time alike, the converter's reason for an unsupported one, and no section when
nothing was run under a second runtime."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import make_spec
from vidbench.report.frame import load_run_folder
from vidbench.report.render import render_reports
from vidbench.report.runtimes import runtime_view
from vidbench.store import STORE_NAME, ResultStore, RunResult

REASON = "UserError: Could not guard on data-dependent expression"
# model → runtime → (status, median seconds per call of batch 1, parity top-1 agree)
PLAN = {
    "c3d_tiny": {"eager": ("ok", 0.010, None), "onnxruntime": ("ok", 0.004, 100.0),
                 "openvino": ("ok", 0.002, 100.0), "export": ("mismatch", 0.001, 50.0)},
    "tsn_tiny": {"eager": ("ok", 0.008, None), "onnxruntime": ("ok", 0.004, 100.0),
                 "openvino": ("ok", 0.004, 100.0), "export": ("unsupported", None, None),
                 "inductor": ("ok", 0.001, None)},  # fastest, but its parity was never checked
}


def samples(median: float, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(median * (1 + 0.01 * rng.standard_normal(40)))


def write(folder, plan=PLAN) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with ResultStore(folder / STORE_NAME) as store:
        store.set_meta("suite_name", "deploy-test")
        for i, (model, runtimes) in enumerate(plan.items()):
            for j, (runtime, (status, median, agree)) in enumerate(runtimes.items()):
                spec = make_spec(model, runtime=runtime, compile=runtime == "inductor", batch_size=1,
                                 metrics=("latency", "throughput"))
                if status == "unsupported":
                    store.write(spec, RunResult(spec.run_id, status, REASON, {}, {"unsupported": REASON}),
                                "deploy-test")
                    continue
                calls = samples(median, seed=10 * i + j)
                metrics = {"latency_ms_p50": float(np.median(calls)) * 1e3,
                           "throughput_clips_s": 1 / float(np.median(calls))}
                if agree is not None:
                    metrics.update(parity_top1_agree=agree, parity_max_abs=0.5 if agree < 99 else 1e-6,
                                   export_s=2.0, artifact_mb=0.7)
                error = None if status == "ok" else f"top-1 agrees with eager PyTorch on {agree:.1f}% of clips"
                store.write(spec, RunResult(spec.run_id, status, error, metrics,
                                            {"inference_s": {"samples": calls}}), "deploy-test")


def test_the_fastest_runtime_keeping_parity_is_picked_and_a_tie_is_called_a_tie(tmp_path):
    write(tmp_path)
    view = runtime_view(load_run_folder(tmp_path).frame)
    picks = view.picks.set_index("variant")
    # export is fastest for c3d_tiny but changed its answers: openvino is the pick, beyond noise
    assert picks.loc["c3d_tiny", "fastest"] == "openvino"
    assert picks.loc["c3d_tiny", "margin"].startswith("faster than onnxruntime by")
    assert picks.loc["c3d_tiny", "not_kept"] == "export (mismatch)"
    # tsn_tiny: onnxruntime and openvino time alike (same median, 1% noise): a tie, whichever is listed first
    assert picks.loc["tsn_tiny", "margin"].startswith("tied with")
    assert picks.loc["tsn_tiny", "not_kept"] == "inductor (parity not checked), export (unsupported)"
    table = view.table.set_index(["variant", "runtime"])
    assert table.loc[("c3d_tiny", "openvino"), "speedup"] == pytest.approx(5.0, rel=0.03)
    text = table.loc[("c3d_tiny", "openvino"), "speedup_text"]
    lo, hi = (float(x) for x in text.split("[")[1].rstrip("]").split(","))
    assert lo < 5.0 < hi and hi - lo < 0.5
    assert table.loc[("tsn_tiny", "export"), "reason"] == REASON
    assert list(view.table[view.table["variant"] == "c3d_tiny"]["runtime"]) == \
        ["eager", "export", "onnxruntime", "openvino"]  # the axis's order


def test_both_reports_carry_the_section_with_the_reasons(tmp_path):
    write(tmp_path)
    render_reports(tmp_path)
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    assert "## Runtimes" in md and "The fastest runtime that keeps eager's answers" in md
    assert REASON in md and REASON in html and 'id="runtimes"' in html
    assert any(p.name.startswith("runtimes-") for p in (tmp_path / "plots").iterdir())


def test_no_section_without_a_second_runtime(tmp_path):
    write(tmp_path, {"c3d_tiny": {"eager": ("ok", 0.01, None)}, "tsn_tiny": {"eager": ("ok", 0.008, None)}})
    assert runtime_view(load_run_folder(tmp_path).frame) is None
    render_reports(tmp_path)
    assert "## Runtimes" not in (tmp_path / "report.md").read_text()


def test_a_pick_is_faster_only_when_its_printed_interval_excludes_no_difference():
    """The deploy report once said "faster than onnxruntime by 5% [-1, 9]": a significant test whose printed
    interval holds 0 is a tie, and the tie prints the interval it rests on (issue 25)."""
    from vidbench.report.runtimes import _margin

    rng = np.random.default_rng(0)
    base = rng.lognormal(-6, 0.05, 400)

    def run(runtime, samples):
        return pd.Series({"runtime": runtime, "detail": {"inference_s": {"samples": list(samples)}}})

    clear = _margin(run("openvino", base / 1.3), run("onnxruntime", base))
    assert clear.startswith("faster than onnxruntime by 30%")
    close = _margin(run("openvino", rng.lognormal(-6, 0.3, 400) / 1.03), run("onnxruntime", rng.lognormal(-6, 0.3, 400)))
    assert close.startswith("tied with onnxruntime (difference within noise: ")
    lo = int(close.split("[")[1].split(",")[0])
    assert lo <= 0
