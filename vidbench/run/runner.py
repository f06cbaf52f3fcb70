"""One RunSpec → one RunResult. Runs inside a worker process, never in the sweep's driver."""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any

import torch

from vidbench.axes import NEUTRAL_BENCHMARK, QUANTIZED
from vidbench.backends import RuntimeUnsupported, backend_for
from vidbench.backends.eager import to_channels_last
from vidbench.measure.energy import energy_meter
from vidbench.measure.oom import is_out_of_memory
from vidbench.measure.rss import rss_peak_mib
from vidbench import deadline
from vidbench.run.artifacts import weights_path
from vidbench.run.env import environment
from vidbench.scenarios import SCENARIOS, RunContext, in_order
from vidbench.scenarios.auto_batch import find_max_batch
from vidbench.scenarios.context import stored_samples
from vidbench.store.record import RunResult
from vidbench.suite.spec import RunSpec

TRACEBACK_LINES = 20


def execute(spec: RunSpec, run_folder: str | Path | None = None, timeout_s: float | None = None) -> RunResult:
    """Measure everything the spec asks for; an exception becomes a `failed` or `oom` result. `run_folder`
    is where `train.save_weights` writes (`<run_folder>/weights/<run_id>.pt`); `timeout_s`, the executor's
    limit, bounds the timing loops (a slow call takes fewer samples, flagged, rather than no figure)."""
    start = time.perf_counter()
    deadline.start(timeout_s)
    bench = spec.benchmark
    if bench.get("threads"):
        torch.set_num_threads(int(bench["threads"]))
    torch.backends.cudnn.benchmark = bool(bench.get("cudnn_benchmark", True))
    env = environment(spec.device)
    try:
        metrics, detail = Measurement(spec, run_folder).run()
        status, error = _parity_status(spec, metrics)
    except Exception as e:  # the run's failure is its result; the sweep goes on
        refusal = e if isinstance(e, RuntimeUnsupported) else backend_for(spec).compile_refusal(e, spec)
        if refusal is not None:  # the runtime (its converter or compiler) cannot take the model: a finding
            status, error = "unsupported", str(refusal)
            metrics, detail = {}, {"unsupported": error}
        else:
            status = "oom" if is_out_of_memory(e) else "failed"
            error = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}".rstrip(": ")
            tail = traceback.format_exc().strip().splitlines()[-TRACEBACK_LINES:]
            metrics, detail = {}, {"error_class": type(e).__name__, "traceback": tail}
    finally:
        deadline.start(None)  # the bound is this run's: the next one in this process sets its own
    return RunResult(spec.run_id, status, error, metrics, detail, env, round(time.perf_counter() - start, 3))


def _parity_status(spec: RunSpec, metrics: dict[str, Any]) -> tuple[str, str | None]:
    """`mismatch` when a runtime's top-1 agrees with eager's on fewer clips than the parity floor (an int8
    run's own `int8_floor`, none by default: quantization is expected to move some answers)."""
    agree = metrics.get("parity_top1_agree")
    key = "int8_floor" if spec.precision == QUANTIZED else "parity_floor"
    floor = spec.benchmark.get(key, NEUTRAL_BENCHMARK[key])
    if agree is not None and floor is not None and agree < float(floor):
        reference = "fp32 eager PyTorch" if spec.precision == QUANTIZED else "eager PyTorch"
        return "mismatch", (f"top-1 agrees with {reference} on {agree:.1f}% of clips "
                            f"(benchmark.{key} {float(floor):g}%)")
    return "ok", None


__all__ = ["Measurement", "execute", "is_out_of_memory", "rss_peak_mib", "stored_samples", "to_channels_last"]


class Measurement(RunContext):
    """The measurements of one run: the registered scenarios (`vidbench.scenarios`) that apply to it, in
    their declared order, each on a freshly seeded model, against this run's context. The run's backend
    decides how the model is prepared, called and trained, and the device's operations how it is
    synchronised and probed. `inference()` and `find_max_batch()` are the faces the harness tests
    (tests/benchmarks) time and probe through; a harness that serves its own model overrides `prepared()`."""

    def __init__(self, spec: RunSpec, run_folder: str | Path | None = None):
        super().__init__(spec, weights_path(run_folder, spec) if run_folder else None)

    def run(self) -> tuple[dict[str, Any], dict[str, Any]]:
        baseline = self.ops.warm_up(self.spec.precision)
        if baseline is not None:
            self.detail["baseline_mem_mb"] = baseline
        if "energy" in self.wanted:
            self.meter = energy_meter(self.device)
            self.detail["energy"] = {**self.meter.describe(), "idle_power_w": self.meter.idle_power_w(),
                                     "scope": "device-wide: every process on the device is counted"}
        try:
            return self.measure()
        finally:
            if self.meter is not None:
                self.meter.close()

    def measure(self) -> tuple[dict[str, Any], dict[str, Any]]:
        for scenario in in_order():
            if scenario.applies(self):  # decided in turn: the auto-batch search sets the batch the rest use
                scenario.run(self)
        return self.metrics, self.detail

    # -- the harness tests' faces --------------------------------------------------------------
    def inference(self) -> None:
        SCENARIOS["inference"].run(self)

    def find_max_batch(self) -> int:
        return find_max_batch(self)
