"""Serving (metric `serving`): the run's prepared model (any runtime, any device) behind LoadGen's system under
test (`measure/serving.py`). The query library is the validation split: with `pipeline: model` its clips are
decoded and transformed once, before LoadGen starts (a query is a prepared clip); with `end_to_end` each query
reads its video file, decodes and transforms it inside the query (latency is video to label). LoadGen's logs
are kept under the run folder (`serving/<run id>/`)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from vidbench.measure.serving import Timers, serve
from vidbench.scenarios.base import Scenario, register_scenario

LIBRARY_SAMPLES = 32  # videos in the query library (LoadGen draws its queries from them)
WARMUP_CALLS = 3  # untimed calls before the expected latency is taken (first calls build caches)
EXPECTED_CALLS = 5  # calls timed before LoadGen starts: its expected latency per sample (the fastest)


class QueryLibrary:
    """The samples LoadGen's queries index: clips in memory (`model`) or decoded on demand (`end_to_end`)."""

    def __init__(self, split: Any, pipeline: str, device: torch.device, timers: Timers):
        self.split, self.pipeline, self.device, self.timers = split, pipeline, device, timers
        self.count = min(len(split), LIBRARY_SAMPLES)
        self.loaded = [self._read(i) for i in range(self.count)] if pipeline == "model" else None

    def __len__(self) -> int:
        return self.count

    def _read(self, index: int) -> torch.Tensor:
        clip = self.split[index][0]
        return clip if clip.dim() == 5 else clip[None]  # a video's views, or one clip as a batch of one

    def batch(self, indices: list[int]) -> torch.Tensor:
        """The queries' clips as one batch on the run's device (views of a video one after another)."""
        started = time.perf_counter()
        clips = [self.loaded[i] for i in indices] if self.loaded is not None else [self._read(i) for i in indices]
        batch = torch.cat(clips).to(self.device)
        if self.loaded is None:
            self.timers.decode_s += time.perf_counter() - started
        return batch


@register_scenario
class Serving(Scenario):
    name = "serving"
    order = 55  # after the closed-loop inference timings, before accuracy trains
    serves = frozenset({"serving"})
    reads = ("serving",)

    def run(self, ctx) -> None:
        config = ctx.spec.serving_block()
        prepared = ctx.prepared()
        for name, value in prepared.figures.items():  # a runtime's export and parity, when no other scenario put them
            if name not in ctx.metrics:
                ctx.put(name, value)
        timers = Timers()
        library = QueryLibrary(ctx.data.val, config["pipeline"], ctx.device, timers)

        def run_batch(indices: list[int]):
            clips = library.batch(indices)
            started = time.perf_counter()
            out = prepared.forward(clips)()
            prepared.sync()
            timers.model_s += time.perf_counter() - started
            return out

        batch = list(range(min(int(config["max_batch"]), len(library))))
        for _ in range(WARMUP_CALLS):
            run_batch([0]), run_batch(batch)
        expected = min(_timed(run_batch, [0]) for _ in range(EXPECTED_CALLS))
        batched_qps = len(batch) / min(_timed(run_batch, batch) for _ in range(EXPECTED_CALLS))
        from vidbench.measure.loadgen_sut import BatchingSUT

        with BatchingSUT(run_batch) as sut:
            served = serve(sut, len(library), config, _log_folder(ctx), expected, timers, batched_qps)
        ctx.put_all(served.figures)
        ctx.detail["serving"] = {"pipeline": config["pipeline"], "library_samples": len(library),
                                 "expected_sample_s": expected, **served.detail}


def _timed(run_batch, indices: list[int]) -> float:
    started = time.perf_counter()
    run_batch(indices)
    return time.perf_counter() - started


def _log_folder(ctx) -> Path:
    """Where LoadGen's logs are kept: the run folder's `serving/<run id>/` (a temporary folder without one)."""
    if ctx.weights_path is not None:  # <run folder>/weights/<run id>.pt
        return ctx.weights_path.parent.parent / "serving" / ctx.spec.run_id
    return Path(tempfile.mkdtemp(prefix="vidbench-serving-"))
