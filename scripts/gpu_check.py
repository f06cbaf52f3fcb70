#!/usr/bin/env python
"""Check vidbench's GPU measurements against independent ones, on a CUDA machine.

Runs a small sweep through vidbench's runner (`vidbench.run.runner.execute`, in this process: the code
a sweep's worker runs) and checks, per run:

- timing:  the wall-clock median of the timed inference calls (device-synchronised) agrees with the
           CUDA-event median of the same calls within --timing-tolerance (default 5%);
- memory:  `peak_mem_mb` equals `torch.cuda.max_memory_allocated` measured here, independently, around
           one forward of a freshly built model at the same batch, input and precision (after one
           untimed call, as the runner does), within --memory-tolerance (default 1%, at least 1 MiB);
- MFU:     below 100% wherever vidbench reports it, and above 1% (plausible) for r3d_18 in bf16;
- runtimes: each CUDA runtime (--runtimes: export, onnxruntime, tensorrt) runs --runtime-models and keeps
           eager's answers (parity at or above the floor); a runtime whose package is not installed, or
           that cannot take the model (`unsupported`), is reported, not failed;
- energy:  NVML's counter agrees with integrated power samples; energy per clip falls with the batch.

Prints one table, writes DIR/gpu_check.json, and exits 0 when every check passes, 1 when one fails (or
a run does not finish), 2 when there is no CUDA device (or on a usage error).

    python scripts/gpu_check.py --out gpu_check_out
    python scripts/gpu_check.py --out out --models r3d_18,timesformer_b --precisions bf16 --batch-sizes 8
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's vidbench, installed or not

MIB = 2**20
NO_GPU_EXIT = 2
FAILED_EXIT = 1


@dataclass
class Check:
    run: str
    name: str  # timing | memory | mfu | status
    ok: bool | None  # None: not applicable here (e.g. MFU of a GPU vidbench has no peak for)
    detail: str


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Check vidbench's GPU timing, memory and MFU against independent "
                                            "measurements (exit 0 ok, 1 a check failed, 2 no GPU).")
    p.add_argument("--out", required=True, type=Path, help="folder for gpu_check.json (created)")
    p.add_argument("--models", default="r3d_18,x3d_m", help="comma-separated registry names (default: %(default)s; "
                                                           "timesformer_b is a heavier third)")
    p.add_argument("--precisions", default="fp32,bf16", help="comma-separated: fp32, bf16, fp16")
    p.add_argument("--batch-sizes", default="8,auto", help="comma-separated numbers or 'auto'")
    p.add_argument("--device", default="cuda", help="a CUDA device, e.g. cuda or cuda:1")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--auto-batch-max", type=int, default=64, help="cap of the 'auto' batch search")
    p.add_argument("--timing-tolerance", type=float, default=0.05)
    p.add_argument("--memory-tolerance", type=float, default=0.01)
    p.add_argument("--mfu-floor", type=float, default=0.01, help="lowest plausible MFU of r3d_18 in bf16")
    p.add_argument("--energy-models", default="r3d_18", help="comma-separated models of the energy check "
                                                             "(counter vs samples, J/clip vs batch); '' skips it")
    p.add_argument("--energy-tolerance", type=float, default=0.10)
    p.add_argument("--runtimes", default="export,onnxruntime,tensorrt",
                   help="comma-separated CUDA runtimes checked beside eager; '' skips them")
    p.add_argument("--runtime-models", default="r3d_18", help="comma-separated models of the runtime check")
    p.add_argument("--runtime-batch", type=int, default=8)
    args = p.parse_args(argv)
    args.runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    args.runtime_models = [m.strip() for m in args.runtime_models.split(",") if m.strip()]
    args.energy_models = [m.strip() for m in args.energy_models.split(",") if m.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.precisions = [x.strip() for x in args.precisions.split(",") if x.strip()]
    sizes = []
    for b in args.batch_sizes.split(","):
        b = b.strip()
        if b == "auto":
            sizes.append("auto")
        elif b.isdigit() and int(b) > 0:
            sizes.append(int(b))
        else:
            p.error(f"--batch-sizes: {b!r} is neither a positive number nor 'auto'")
    args.batch_sizes = sizes
    bad = [x for x in args.precisions if x not in ("fp32", "bf16", "fp16")]
    if bad:
        p.error(f"--precisions: unknown {', '.join(bad)}")
    return args


def cuda_problem(device: str) -> str | None:
    """Why there is no usable CUDA device here, or None."""
    import torch

    if not torch.cuda.is_available():
        built = torch.version.cuda or "no CUDA"
        return (f"no CUDA device: torch.cuda.is_available() is False (torch {torch.__version__}, built with "
                f"{built}); this script checks GPU measurements and needs a GPU")
    index = torch.device(device).index or 0
    if index >= torch.cuda.device_count():
        return f"no CUDA device {device!r}: {torch.cuda.device_count()} visible"
    return None


# -- checks (pure: testable without a GPU) -------------------------------------------------------------
def timing_check(run: str, detail: dict[str, Any], tolerance: float) -> Check:
    wall = (detail.get("inference_s") or {}).get("median")
    event = ((detail.get("inference_s") or {}).get("cuda_event") or {}).get("median")
    if not wall or not event:
        return Check(run, "timing", False, "no wall-clock or CUDA-event samples recorded")
    diff = wall / event - 1
    return Check(run, "timing", abs(diff) <= tolerance,
                 f"wall {wall * 1e3:.3f} ms vs CUDA events {event * 1e3:.3f} ms: {diff:+.2%} "
                 f"(tolerance {tolerance:.0%})")


def memory_check(run: str, vidbench_mib: float | None, independent_bytes: int | None, tolerance: float) -> Check:
    if vidbench_mib is None or independent_bytes is None:
        return Check(run, "memory", False, "peak_mem_mb or the independent measurement is missing")
    independent_mib = independent_bytes / MIB
    diff = vidbench_mib - independent_mib
    allowed = max(1.0, tolerance * independent_mib)
    return Check(run, "memory", abs(diff) <= allowed,
                 f"peak_mem_mb {vidbench_mib:.1f} MiB vs max_memory_allocated {independent_mib:.1f} MiB: "
                 f"{diff:+.1f} MiB (allowed ±{allowed:.1f})")


def mfu_check(run: str, model: str, precision: str, mfu: float | None, floor: float) -> Check:
    strict = model == "r3d_18" and precision == "bf16"
    if mfu is None:  # not a failure of the measurement: vidbench gives no MFU rather than a guess
        return Check(run, "mfu", None, "no MFU: vidbench has no peak TFLOP/s for this GPU and precision")
    low = floor if strict else 0.0
    return Check(run, "mfu", low < mfu < 1.0, f"MFU {mfu:.1%} (plausible: {low:.0%} < MFU < 100%)")


def energy_agreement_check(run: str, counter_j: float | None, sampled_j: float | None, tolerance: float) -> Check:
    """NVML's energy counter against its power samples integrated over the same window."""
    if not counter_j or not sampled_j:
        return Check(run, "energy", False, "no counter or no sampled energy over the window")
    diff = counter_j / sampled_j - 1
    return Check(run, "energy", abs(diff) <= tolerance,
                 f"counter {counter_j:.1f} J vs integrated power samples {sampled_j:.1f} J: {diff:+.1%} "
                 f"(tolerance {tolerance:.0%})")


def energy_scaling_check(run: str, per_clip_bs1: float | None, per_clip_large: float | None) -> Check:
    """More work per joule at a larger batch: energy per clip falls from batch 1 to the auto batch."""
    if not per_clip_bs1 or not per_clip_large:
        return Check(run, "energy/batch", False, "energy per clip missing at batch 1 or at the auto batch")
    return Check(run, "energy/batch", per_clip_large < per_clip_bs1,
                 f"{per_clip_bs1:.3f} J/clip at batch 1 vs {per_clip_large:.3f} J/clip at the auto batch")


# -- measurement -----------------------------------------------------------------------------------
def counter_and_samples(device: str, work, seconds: float = 2.0) -> tuple[float | None, float | None]:
    """(joules by NVML's counter, joules by power samples integrated) over one window of `work` calls."""
    import torch

    from vidbench.measure.energy import energy_meter
    from vidbench.measure.energy_sources import PowerSampler

    meter = energy_meter(device)
    if meter.method != "nvml-counter":
        return None, None
    sampler = PowerSampler(meter.source.power_w, 0.01, time.perf_counter)
    with meter.window() as window:
        sampler.start()
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            work()
        torch.cuda.synchronize(torch.device(device))
        sampled = sampler.stop()
    meter.close()
    return window.joules, sampled


def energy_checks(model: str, args: argparse.Namespace) -> tuple[dict, list[Check]]:
    """The counter agrees with integrated samples; energy per clip falls from batch 1 to the auto batch."""
    import torch

    from vidbench.models import create_model, model_info
    from vidbench.run.runner import execute

    info = model_info(model)
    label = f"{model} energy"
    net = create_model(model, num_classes=400).to(args.device).eval()
    clips = torch.randn(8, 3, info.default_frames, info.default_size, info.default_size, device=args.device)

    def work():
        with torch.no_grad():
            net(clips)

    counter, sampled = counter_and_samples(args.device, work)
    checks = [energy_agreement_check(label, counter, sampled, args.energy_tolerance)]
    per_clip = {}
    for batch in (1, "auto"):
        spec = make_spec(model, "fp32", batch, args)
        spec = type(spec).from_dict({**spec.to_dict(), "metrics": ("throughput", "energy")})
        result = execute(spec)
        per_clip[batch] = result.metrics.get("energy_j_per_clip")
    checks.append(energy_scaling_check(label, per_clip[1], per_clip["auto"]))
    row = {"run": label, "counter_j": counter, "sampled_j": sampled, "j_per_clip_bs1": per_clip[1],
           "j_per_clip_auto": per_clip["auto"]}
    return row, checks



def independent_peak_bytes(model_name: str, num_classes: int, frames: int, size: int, batch: int,
                           precision: str, device: str, seed: int = 0) -> tuple[int, int]:
    """(max_memory_allocated around one forward, bytes allocated before building) with nothing of
    vidbench's in between: a model built here, random clips, autocast as the run's precision."""
    import torch

    from vidbench.models import create_model

    dtype = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]
    dev = torch.device(device)
    gc.collect()
    torch.cuda.synchronize(dev)
    torch.cuda.empty_cache()
    before = torch.cuda.memory_allocated(dev)
    torch.manual_seed(seed)
    model = create_model(model_name, num_classes=num_classes).to(dev).eval()
    clips = torch.randn(batch, 3, frames, size, size, device=dev)

    def forward():
        with torch.no_grad(), torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
            return model(clips)

    forward()  # the runner's untimed first call (cuDNN autotuning, lazy init) comes before its measurement
    torch.cuda.synchronize(dev)
    torch.cuda.reset_peak_memory_stats(dev)
    forward()
    torch.cuda.synchronize(dev)
    peak = torch.cuda.max_memory_allocated(dev)
    del model, clips
    gc.collect()
    torch.cuda.empty_cache()
    return int(peak), int(before)


def make_spec(model: str, precision: str, batch: int | str, args: argparse.Namespace, runtime: str = "eager"):
    """The run a suite with these settings expands to: parsed, expanded and admitted by vidbench's own suite
    code, so training and benchmark defaults are the ones a sweep gets and a refusal stops before the GPU."""
    from vidbench.admission import admit_suite
    from vidbench.models import model_info
    from vidbench.suite.schema import parse_suite

    info = model_info(model)
    suite = parse_suite({
        "name": "gpu_check", "seed": 0, "models": [model],
        "datasets": [{"name": "random", "args": {"num_classes": 400, "train_size": 8, "val_size": 8}}],
        "resolutions": [info.default_size], "clip_lengths": [info.default_frames], "batch_sizes": [batch],
        "devices": [args.device], "precisions": [precision], "runtimes": [runtime],
        "metrics": ["params", "flops", "memory", "latency", "throughput"],
        "benchmark": {"warmup": args.warmup, "repeats": args.repeats, "auto_batch_max": args.auto_batch_max},
    }, source="gpu_check")
    (spec,) = admit_suite(suite)
    return spec


def run_one(model: str, precision: str, batch: int | str, args: argparse.Namespace) -> tuple[dict, list[Check]]:
    from vidbench.run.runner import execute

    spec = make_spec(model, precision, batch, args)
    label = f"{model} {precision} bs={batch}"
    started = time.perf_counter()
    result = execute(spec)
    row: dict[str, Any] = {"run": label, "model": model, "precision": precision, "batch_size": batch,
                           "input": f"{spec.clip_length}x{spec.resolution[0]}x{spec.resolution[1]}",
                           "status": result.status, "error": result.error, "seconds": time.perf_counter() - started,
                           "metrics": result.metrics,
                           "batch_size_run": result.detail.get("batch_size_run", batch),
                           "mfu_peak_tflops": result.detail.get("mfu_peak_tflops"),
                           "inference_s": result.detail.get("inference_s", {}).get("median"),
                           "cuda_event_s": (result.detail.get("inference_s", {}).get("cuda_event") or {}).get("median")}
    if result.status != "ok":
        return row, [Check(label, "status", False, f"run {result.status}: {result.error}")]
    checks = [timing_check(label, result.detail, args.timing_tolerance)]
    bs = int(row["batch_size_run"])
    try:
        peak, before = independent_peak_bytes(model, 400, spec.clip_length, spec.resolution[0], bs, precision,
                                              args.device, spec.seed)
        row["independent_peak_mib"], row["allocated_before_mib"] = peak / MIB, before / MIB
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        peak = None
        row["independent_error"] = f"{type(e).__name__}: {e}"
    checks.append(memory_check(label, result.metrics.get("peak_mem_mb"), peak, args.memory_tolerance))
    checks.append(mfu_check(label, model, precision, result.metrics.get("mfu"), args.mfu_floor))
    return row, checks


def runtime_verdict(label: str, status: str, error: str | None, agree: float | None) -> Check:
    """A runtime's run: ok with parity kept; skipped (package absent) or unsupported (the converter's
    finding) reported as not applicable; mismatch or a failure is a failed check."""
    if status == "ok":
        return Check(label, "runtime", True, f"parity top-1 {agree:.1f}%")
    if status in ("skipped", "unsupported"):
        return Check(label, "runtime", None, f"{status}: {error}")
    return Check(label, "runtime", False, f"{status}: {error}")


def runtime_checks(args: argparse.Namespace) -> tuple[list[dict], list[Check]]:
    """Every CUDA runtime on the runtime models, beside eager in the same setting: status, parity and
    throughput (the speed-up over eager is in the table)."""
    from vidbench.backends import backend_for
    from vidbench.run.runner import execute

    rows, checks = [], []
    for model in args.runtime_models:
        for runtime in ["eager", *args.runtimes]:
            for precision in (["fp32", "fp16"] if runtime == "tensorrt" else ["fp32"]):
                label = f"{model} {runtime} {precision}"
                print(f"gpu_check: {label} ...", file=sys.stderr, flush=True)
                spec = make_spec(model, precision, args.runtime_batch, args, runtime)
                reason = backend_for(spec).unavailable(spec)
                result = None if reason else execute(spec)
                status = "skipped" if reason else result.status
                metrics = {} if result is None else result.metrics
                rows.append({"run": label, "status": status, "error": reason or (result and result.error),
                             "metrics": metrics})
                if runtime != "eager":
                    checks.append(runtime_verdict(label, status, reason or result.error,
                                                  metrics.get("parity_top1_agree")))
    return rows, checks


def runtime_table(rows: list[dict]) -> str:
    eager = {r["run"].split()[0]: (r["metrics"] or {}).get("throughput_clips_s") for r in rows
             if r["run"].split()[1] == "eager"}
    lines = ["runtime run                     status       clips/s   speed-up  parity %  export s",
             "-" * 84]
    for r in rows:
        m = r["metrics"] or {}
        base, clips = eager.get(r["run"].split()[0]), m.get("throughput_clips_s")
        speedup = fmt(clips / base, ".2f") + "x" if clips and base else "-"
        lines.append(f"{r['run']:<32}{r['status']:<13}{fmt(clips):>8}  {speedup:>8}  "
                     f"{fmt(m.get('parity_top1_agree')):>8}  {fmt(m.get('export_s')):>8}"
                     + (f"  {r['error']}" if r["status"] != "ok" and r.get("error") else ""))
    return "\n".join(lines)


def fmt(value, spec: str = ".1f", scale: float = 1.0) -> str:
    return "-" if value is None else format(value * scale, spec)


def table(rows: list[dict], checks: list[Check]) -> str:
    marks = {True: "ok", False: "FAIL", None: "n/a"}
    by_run: dict[str, dict[str, Check]] = {}
    for c in checks:
        by_run.setdefault(c.run, {})[c.name] = c
    header = ["run", "input", "bs", "status", "clips/s", "wall ms", "event ms", "peak MiB", "indep MiB", "MFU", "of TF/s",
              "timing", "memory", "mfu"]
    lines = []
    for r in rows:
        m = r.get("metrics") or {}
        cs = by_run.get(r["run"], {})
        lines.append([r["run"], r["input"], str(r.get("batch_size_run")), r["status"],
                      fmt(m.get("throughput_clips_s")), fmt(r.get("inference_s"), ".2f", 1e3),
                      fmt(r.get("cuda_event_s"), ".2f", 1e3), fmt(m.get("peak_mem_mb")),
                      fmt(r.get("independent_peak_mib")), fmt(m.get("mfu"), ".1%"),
                      fmt(r.get("mfu_peak_tflops"), ".0f"),
                      *(marks[cs[n].ok] if n in cs else ("FAIL" if "status" in cs else "-")
                        for n in ("timing", "memory", "mfu"))])
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(line, widths)) for line in lines]
    failed = [c for c in checks if c.ok is False]
    if failed:
        out += ["", "failed checks:"] + [f"  {c.run}: {c.name}: {c.detail}" for c in failed]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    problem = cuda_problem(args.device)
    if problem:
        print(f"gpu_check: {problem}", file=sys.stderr)
        return NO_GPU_EXIT

    import torch

    from vidbench.run.env import environment

    args.out.mkdir(parents=True, exist_ok=True)
    rows, checks = [], []
    for model in args.models:
        for precision in args.precisions:
            for batch in args.batch_sizes:
                print(f"gpu_check: {model} {precision} bs={batch} ...", file=sys.stderr, flush=True)
                row, run_checks = run_one(model, precision, batch, args)
                rows.append(row)
                checks.extend(run_checks)
    runtime_rows, runtime_results = runtime_checks(args)
    checks.extend(runtime_results)
    energy_rows = []
    for model in args.energy_models:
        print(f"gpu_check: {model} energy ...", file=sys.stderr, flush=True)
        row, energy = energy_checks(model, args)
        energy_rows.append(row)
        checks.extend(energy)
    ok = all(c.ok is not False for c in checks)
    report = {"ok": ok, "device": torch.cuda.get_device_name(torch.device(args.device)),
              "env": environment(args.device), "settings": {k: (str(v) if isinstance(v, Path) else v)
                                                            for k, v in vars(args).items()},
              "runs": rows, "runtimes": runtime_rows, "energy": energy_rows, "checks": [asdict(c) for c in checks]}
    path = args.out / "gpu_check.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(table(rows, checks))
    print()
    print(runtime_table(runtime_rows))
    print(f"\n{'all checks passed' if ok else 'SOME CHECKS FAILED'}; wrote {path}")
    return 0 if ok else FAILED_EXIT


if __name__ == "__main__":
    sys.exit(main())
