"""Synthetic run folders whose figures follow known laws, for the report tests.

GMACs ∝ T · side², throughput ∝ 1 / GMACs, memory = weights + activations ∝ T · side²; accuracy depends
on family and dataset. So a report's fitted exponents and Pareto fronts have known answers.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from tests.conftest import make_spec
from vidbench.store import STORE_NAME, ResultStore, RunResult

# variant → (model, family, arch, model_args, GMACs per frame per pixel² ×1e6, top-1 on motion, on appearance)
VARIANTS = {
    "tsn_tiny": ("tsn_tiny", "cnn", "tsn", {}, 1.0, 30.0, 90.0),
    "c3d_tiny": ("c3d_tiny", "cnn", "c3d", {}, 4.0, 70.0, 88.0),
    "lrcn_tiny": ("lrcn_tiny", "cnn_rnn", "lrcn", {}, 1.5, 60.0, 85.0),
    "timesformer_tiny[attention=divided]": ("timesformer_tiny", "transformer", "timesformer",
                                            {"attention": "divided"}, 2.0, 80.0, 92.0),
    "timesformer_tiny[attention=joint]": ("timesformer_tiny", "transformer", "timesformer",
                                          {"attention": "joint"}, 3.0, 82.0, 91.0),
}
DEVICE_SPEED = {"cpu": 1.0, "cuda": 20.0}
EVIL = "<script>alert('x')</script>"


def metrics_for(variant: str, dataset: str, side: int, t: int, batch: int, device: str, jitter: float = 0.0) -> dict:
    _, _, _, _, k, top_motion, top_app = VARIANTS[variant]
    gmacs = k * 1e-6 * t * side * side
    throughput = DEVICE_SPEED[device] * 50.0 / gmacs * (1 + jitter)
    top1 = (top_motion if dataset == "synthetic-motion" else top_app) + side / 16 + t / 8 + jitter
    return {"params": int(10_000 * k), "gmacs": gmacs, "gflops": 2 * gmacs, "peak_mem_mb": 2.0 + 0.001 * t * side * side,
            "latency_ms_p50": batch * 1000 / throughput, "latency_ms_p90": 1.1 * batch * 1000 / throughput,
            "throughput_clips_s": throughput, "train_throughput_clips_s": throughput / 3,
            "train_peak_mem_mb": 3 * (2.0 + 0.001 * t * side * side), "top1": min(top1, 100.0)}


def write_store(folder: Path, *, variants=tuple(VARIANTS), datasets=("synthetic-motion",), sides=(32, 48),
                clip_lengths=(4, 8), batch_sizes=(8,), devices=("cpu",), lrs=(1e-3,), problems: bool = True,
                suite_name: str = "synthetic") -> int:
    """Write the product of the axes as ok runs (plus a failed, an oom and a skipped run); returns the count."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    with ResultStore(folder / STORE_NAME) as store:
        store.set_meta("suite_name", suite_name)
        store.set_meta("suite_yaml", f"name: {suite_name}\ndescription: synthetic runs for the report tests\n")
        for i, (variant, dataset, side, t, bs, device, lr) in enumerate(itertools.product(
                variants, datasets, sides, clip_lengths, batch_sizes, devices, lrs)):
            model, family, arch, args, *_ = VARIANTS[variant]
            spec = make_spec(model, family=family, arch=arch, model_args=args, dataset=dataset,
                             resolution=(side, side), clip_length=t, batch_size=bs, device=device,
                             metrics=("params", "flops", "memory", "latency", "throughput", "accuracy"),
                             train={"epochs": 1, "lr": lr})
            jitter = 0.0 if len(lrs) == 1 else (lr * 100)
            store.write(spec, RunResult(spec.run_id, "ok", metrics=metrics_for(variant, dataset, side, t, bs, device,
                                                                               jitter),
                                        env={"torch": "2.x", "device": device, "threads": 2}, duration_s=1.0 + i % 7),
                        suite_name)
            n += 1
        if problems:
            failed = make_spec("tsn_tiny", family="cnn", arch="tsn", batch_size=64, model_args={"width": 3})
            store.write(failed, RunResult(failed.run_id, "failed", f"RuntimeError: {EVIL}",
                                          detail={"error_class": "RuntimeError",
                                                  "traceback": ["Traceback (most recent call last):",
                                                                '  File "runner.py", line 3, in run',
                                                                f"RuntimeError: {EVIL}"]}), suite_name)
            oom = make_spec("c3d_tiny", family="cnn", arch="c3d", batch_size=128)
            store.write(oom, RunResult(oom.run_id, "oom", "OutOfMemoryError: CUDA out of memory",
                                       detail={"error_class": "OutOfMemoryError", "oom_batch_sizes": [128, 64],
                                               "traceback": ["torch.OutOfMemoryError: CUDA out of memory"]}),
                        suite_name)
            skipped = make_spec("tsn_tiny", family="cnn", arch="tsn", device="cuda:7")
            store.write(skipped, RunResult(skipped.run_id, "skipped", "CUDA is not available on this machine"),
                        suite_name)
            n += 3
    return n


def write_timed(folder: Path, runs: list[tuple[dict, list[float], dict]], env: dict | None = None) -> list[str]:
    """Runs with per-call inference samples: each (make_spec overrides, samples in seconds, other figures[,
    its own environment]). The latency and throughput figures are made from the samples, as the runner makes
    them."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    ids = []
    with ResultStore(folder / STORE_NAME) as store:
        for overrides, samples, figures, *own_env in runs:
            spec = make_spec(**{"metrics": ("latency", "throughput", "accuracy"), "batch_size": 2, **overrides})
            median = float(np.median(samples))
            metrics = {"latency_ms_p50": median * 1e3, "throughput_clips_s": spec.batch_size / median, **figures}
            store.write(spec, RunResult(spec.run_id, "ok", metrics=metrics,
                                        detail={"inference_s": {"samples": list(samples)}},
                                        env=(own_env or [env])[0] or {"cpu": "Test CPU", "threads": 1,
                                                                                      "torch": "2.x"}))
            ids.append(spec.run_id)
    return ids
