"""All views of one video in chunks (`benchmark.views_batch`): the per-video latency is the time of every
chunk's call together, the chunking is in the run's detail, and the key moves no stored run id."""

from __future__ import annotations

import time

import pytest

from tests.conftest import make_spec
from vidbench.scenarios.context import RunContext
from vidbench.scenarios.inference import per_video

MS_PER_VIEW = 0.002  # the fake model's cost: a call on n views sleeps n × 2 ms


class SleepingPrepared:
    """A prepared model whose call on n views takes n × MS_PER_VIEW seconds, recording each call's views."""

    def __init__(self):
        self.calls: list[int] = []

    def forward(self, clips):
        views = clips.shape[0]

        def call():
            self.calls.append(views)
            time.sleep(views * MS_PER_VIEW)
        return call


def context(views_batch):
    bench = {"warmup": 1, "repeats": 5, "warmup_s": 0.0, "min_time_s": 0.0, "views_batch": views_batch}
    spec = make_spec("tsn_tiny", dataset_args={"num_classes": 4, "test_clips": 5, "test_crops": 2}, batch_size=1,
                     metrics=("latency", "throughput"), benchmark=bench)
    return RunContext(spec)


def test_a_chunked_video_takes_the_sum_of_its_chunks_timed_calls():
    ctx, prepared = context(4), SleepingPrepared()
    per_video(ctx, prepared, batch_stats=None)
    assert ctx.detail["video_chunks"] == {"views_batch": 4, "chunks": [4, 3, 3], "halvings": 0}
    assert prepared.calls[:3] == [4, 3, 3] and set(prepared.calls) == {4, 3}  # every chunk, every call
    per_chunk = {size: ctx.timed(prepared.forward(ctx.random_batch(size)[0]), f"chunk_{size}").median
                 for size in (4, 3)}
    chunks_sum = per_chunk[4] + 2 * per_chunk[3]
    video = ctx.metrics["latency_ms_per_video"] / 1e3
    assert video == pytest.approx(chunks_sum, rel=0.2)  # within timer and scheduler noise
    assert video == pytest.approx(10 * MS_PER_VIEW, rel=0.5)
    assert ctx.metrics["videos_s"] == pytest.approx(1 / ctx.detail["video_s"]["median"])


def test_views_that_fit_run_in_one_call_and_the_key_leaves_run_ids_alone():
    ctx, prepared = context(None), SleepingPrepared()
    per_video(ctx, prepared, batch_stats=None)
    assert ctx.detail["video_chunks"] == {"views_batch": "auto", "chunks": [10], "halvings": 0}
    assert set(prepared.calls) == {10}
    before = make_spec(metrics=("latency",))
    assert make_spec(metrics=("latency",), benchmark={**before.benchmark, "views_batch": None}).run_id == before.run_id
    assert make_spec(metrics=("latency",), benchmark={**before.benchmark, "views_batch": 4}).run_id != before.run_id


def test_a_real_run_stores_its_chunking_and_per_video_figures():
    from vidbench.run.runner import execute

    bench = {"warmup": 1, "repeats": 3, "warmup_s": 0.0, "min_time_s": 0.0, "views_batch": 4}
    spec = make_spec("c3d_tiny", dataset_args={"num_classes": 4, "test_clips": 2, "test_crops": 3}, batch_size=1,
                     metrics=("flops", "latency", "throughput"), resolution=(32, 32), benchmark=bench)
    result = execute(spec)
    assert result.status == "ok", result.error
    assert result.detail["video_chunks"] == {"views_batch": 4, "chunks": [3, 3], "halvings": 0}
    m = result.metrics
    assert m["views"] == 6 and m["gmacs_per_video"] == pytest.approx(6 * m["gmacs"])
    assert m["videos_s"] == pytest.approx(1e3 / m["latency_ms_per_video"])
