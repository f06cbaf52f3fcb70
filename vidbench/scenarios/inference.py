"""Inference, per batch and per video: the prepared model's first call (compilation, a compiler's parity),
its memory (the tensor peak where the backend's tensors are PyTorch's, and the resident memory a CPU run
adds), and the timed loop, which gives latency (its declared percentiles), throughput and energy; then all
views of one video, as the published test protocols run them: in one batch, or in chunks (`views_batch`,
or halved on out-of-memory) whose calls together are the video's time."""

from __future__ import annotations

import time
from typing import Callable

import torch

from vidbench.measure.memory import MIB, module_tensors
from vidbench.measure.rss import rss_high_water_mib, rss_now_mib
from vidbench.measure.stats import Stats
from vidbench.measure.views import chunk_sizes, halving_on_oom
from vidbench.metrics import quantile_columns
from vidbench.scenarios.base import Scenario, register_scenario

RSS_CALLS = 3  # inference calls under the resident-memory high-water mark


@register_scenario
class Inference(Scenario):
    name = "inference"
    order = 30
    serves = frozenset({"memory", "latency", "throughput", "energy"})
    reads = ("benchmark",)

    def run(self, ctx) -> None:
        ctx.backend.load()  # the runtime's libraries: not part of what the model adds to resident memory
        rss_before = rss_now_mib() if "memory" in ctx.wanted and not ctx.ops.has_allocator_peak else None
        prepared = ctx.prepared()
        ctx.put_all(prepared.figures)  # a runtime's export time, artifact and parity
        clips, _ = ctx.random_batch()
        forward = prepared.forward(clips)
        started = time.perf_counter()
        forward()  # first call: lazy initialisation, cuDNN autotuning, compilation
        prepared.sync()
        first = time.perf_counter() - started
        ctx.detail["first_call_s"] = first
        ctx.put_all(prepared.after_first_call(first))  # a compiler's time and parity
        if "memory" in ctx.wanted:
            inference_memory(ctx, prepared, forward, clips, rss_before)
        if ctx.wanted & {"latency", "throughput", "energy"}:
            stats = ctx.timed(forward, "inference_s", energy="energy" in ctx.wanted)
            per_video(ctx, prepared, stats)
            if "latency" in ctx.wanted:
                put_quantiles(ctx, "inference_s", stats)
            if "throughput" in ctx.wanted:
                clips_s = ctx.batch_size / stats.median
                ctx.put("throughput_clips_s", clips_s)
                ctx.put("throughput_frames_s", clips_s * ctx.spec.clip_length)
                ctx.achieved(clips_s, train=False)


def put_quantiles(ctx, samples: str, stats: Stats) -> None:
    """Each latency figure of `samples` at the percentile its column declares (ms); p99 only where the
    samples are enough for it."""
    for col in quantile_columns("latency", samples):
        value = stats.at(col.quantile)
        if value is not None:
            ctx.put(col.name, value * 1e3)


def inference_memory(ctx, prepared, forward: Callable[[], object], clips: torch.Tensor,
                     rss_before: float | None) -> None:
    """Tensor peak where the backend's tensors are PyTorch's; on the CPU also the resident memory the
    run adds over a few calls (vidbench.measure.rss), measured alike for every runtime: the only
    figure a runtime whose buffers PyTorch cannot see has."""
    model = prepared.model
    resident = [*module_tensors(model)] if isinstance(model, torch.nn.Module) else []
    peak = prepared.peak_memory(forward, [*resident, clips])
    if peak is not None:  # the allocator's reserved peak belongs to that probe only
        ctx.put("peak_mem_mb", peak / MIB)
        reserved = ctx.ops.reserved_peak_mb()
        if reserved is not None:
            ctx.put("peak_mem_reserved_mb", reserved)
    if not ctx.ops.has_allocator_peak:
        peak = rss_high_water_mib(lambda: [forward() for _ in range(RSS_CALLS)])
        if peak is None or rss_before is None:
            ctx.detail["infer_rss"] = "no resettable RSS high-water mark on this system"
        else:
            ctx.put("infer_rss_mb", peak - rss_before)
            ctx.detail["infer_rss"] = {"before_mb": rss_before, "high_water_mb": peak}


def video_call(prepared, clips: torch.Tensor, sizes: list[int]) -> Callable[[], None]:
    """One video: its views in calls of `sizes` (rows of `clips`, which holds the largest), in order."""
    calls = [prepared.forward(clips[:size]) for size in sizes]

    def video() -> None:
        for call in calls:
            call()
    return video


def timed_video(ctx, prepared, views: int, limit: int | None) -> tuple[Stats, list[int]]:
    """The timed loop over all views of one video, at most `limit` views per call."""
    sizes = chunk_sizes(views, limit)
    clips, _ = ctx.random_batch(sizes[0])
    return ctx.timed(video_call(prepared, clips, sizes), "video_s"), sizes


def per_video(ctx, prepared, batch_stats: Stats) -> None:
    """All views of one video, as the published protocols run them: its latency and videos/s. The views
    go in one batch (the run's own timing when its batch is one video's views), or in calls of at most
    `benchmark.views_batch` views, or (automatic) halved until they fit; the chunks are in the detail."""
    views, asked = ctx.views, ctx.spec.benchmark.get("views_batch")
    ctx.put("views", views)
    if views == ctx.batch_size and (asked is None or asked >= views):
        stats, ctx.detail["video_s"], sizes, halvings = batch_stats, ctx.detail["inference_s"], [views], 0
    else:
        (stats, sizes), _, halvings = halving_on_oom(lambda limit: timed_video(ctx, prepared, views, limit),
                                                     views, asked, ctx.ops.release_cached)
    ctx.detail["video_chunks"] = {"views_batch": "auto" if asked is None else asked, "chunks": sizes,
                                  "halvings": halvings}
    if "latency" in ctx.wanted:
        put_quantiles(ctx, "video_s", stats)
    if "throughput" in ctx.wanted:
        ctx.put("videos_s", 1 / stats.median)
