"""One training step (forward, backward, optimizer step) at the run's batch: its peak memory with the
optimizer state a steady-state step holds, and its timed loop (train throughput, energy). Only where the
backend trains (a deployment runtime's runs train nothing)."""

from __future__ import annotations

import torch

from vidbench.measure.memory import MIB, module_tensors
from vidbench.scenarios.base import Scenario, register_scenario


@register_scenario
class TrainingStepScenario(Scenario):
    name = "training_step"
    order = 40
    serves = frozenset({"memory", "train_throughput"})
    reads = ("train", "benchmark")

    def applies(self, ctx) -> bool:
        return super().applies(ctx) and ctx.backend.trains

    def run(self, ctx) -> None:
        setup = ctx.training_step()
        step = setup.step
        clips, labels = ctx.random_batch()
        step(clips, labels)  # creates the optimizer state, which a steady-state step holds
        if "memory" in ctx.wanted:
            state = [t for st in setup.optimizer.state.values() for t in st.values() if isinstance(t, torch.Tensor)]
            peak = ctx.trainer.peak_memory(lambda: step(clips, labels), ctx.spec,
                                           [*module_tensors(setup.model), *state, clips, labels])
            if peak is not None:
                ctx.put("train_peak_mem_mb", peak / MIB)
        if "train_throughput" in ctx.wanted:
            stats = ctx.timed(lambda: step(clips, labels), "train_step_s", energy="energy" in ctx.wanted)
            clips_s = ctx.batch_size / stats.median
            ctx.put("train_throughput_clips_s", clips_s)
            ctx.put("train_throughput_frames_s", clips_s * ctx.spec.clip_length)
            ctx.achieved(clips_s, train=True)
