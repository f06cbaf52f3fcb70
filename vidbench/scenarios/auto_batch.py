"""`batch_sizes: [auto]`: the largest batch that fits, found before anything is measured at it (a training
step's when the run trains, else an inference call's)."""

from __future__ import annotations

import torch

from vidbench.scenarios.base import Scenario, register_scenario
from vidbench.measure.oom import is_out_of_memory


@register_scenario
class AutoBatch(Scenario):
    name = "auto_batch"
    order = 20
    reads = ("benchmark",)

    def applies(self, ctx) -> bool:
        return ctx.batch_size is None

    def run(self, ctx) -> None:
        ctx.batch_size = find_max_batch(ctx)
        ctx.detail["batch_size_run"] = ctx.batch_size


def find_max_batch(ctx) -> int:
    """Double the batch until a step runs out of memory or reaches the cap, then bisect between the last
    that fitted and the first that did not (timm's approach)."""
    training = bool(ctx.wanted & {"train_throughput", "accuracy"})
    fits = _fits(ctx, training)
    cap = int(ctx.spec.benchmark.get("auto_batch_max", 256))
    good, bad = 0, None
    b = 1
    while b <= cap and fits(b):
        good, b = b, b * 2
    if good == 0:
        raise torch.OutOfMemoryError("batch_sizes: auto: not even a batch of 1 fits")
    if b <= cap:
        bad = b
        while bad - good > 1:
            mid = (good + bad) // 2
            good, bad = (mid, bad) if fits(mid) else (good, mid)
    ctx.detail["auto_batch"] = {"fits": good, "first_too_big": bad, "cap": cap, "training": training}
    return good


def _fits(ctx, training: bool):
    """Whether a batch of `b` runs without running out of memory: a training step where the run trains,
    an inference call otherwise."""
    if training:
        setup = ctx.training_step()
    else:
        prepared = ctx.prepared()

    def fits(b: int) -> bool:
        clips, labels = ctx.random_batch(b)
        try:
            if training:
                setup.step(clips, labels)
            else:
                prepared.forward(clips)()
            ctx.backend.sync(ctx.spec)
            return True
        except Exception as e:
            if not is_out_of_memory(e):
                raise
            return False
        finally:
            del clips, labels
            ctx.ops.release_cached()

    return fits
