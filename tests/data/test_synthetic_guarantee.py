"""The known answer that proves the whole accuracy path (issue 4): trained as in suites/ablation.yaml, an
order-agnostic model (TSN, average consensus) stays at chance on synthetic-motion, while models that relate
frames (C3D, LRCN, TimeSformer) learn it; on synthetic-appearance every model learns it.

The suite's recipe was chosen over seeds 0-4, not seed 0 alone (the suite runs seed 0). On synthetic-motion
at 32 px x 8 frames, seeds 0-4: lrcn_tiny 95.7-99.2%, timesformer_tiny 97.3-100%; seeds 0-2: tsn_tiny
19.1-27.3% (chance 25%), seeds 0-1: c3d_tiny 100%. On synthetic-appearance (256 clips), seed 0: all four 100%."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vidbench.run.runner import execute
from vidbench.suite import expand_suite, load_suite

SUITE = Path(__file__).resolve().parents[2] / "suites" / "ablation.yaml"
ORDER_AWARE = ("c3d_tiny", "lrcn_tiny", "timesformer_tiny")


def ablation_runs(dataset: str) -> list:
    """The suite's runs of one dataset at 32 px × 8 frames, accuracy only (same training, same seed)."""
    specs = [s for s in expand_suite(load_suite(SUITE))
             if s.dataset == dataset and s.resolution == (32, 32) and s.clip_length == 8]
    return [replace(s, metrics=("accuracy",)) for s in specs]


@pytest.mark.slow
def test_motion_needs_frame_order():
    specs = ablation_runs("synthetic-motion")
    runs = {s.model: execute(s) for s in specs}
    assert set(runs) == {"tsn_tiny", *ORDER_AWARE}
    chance = 100 / specs[0].dataset_args["num_classes"]
    assert abs(runs["tsn_tiny"].metrics["top1"] - chance) <= 10, runs["tsn_tiny"].metrics
    for model in ORDER_AWARE:
        assert runs[model].metrics["top1"] > 90, (model, runs[model].metrics)


@pytest.mark.slow
def test_appearance_is_learned_by_every_model():
    runs = {s.model: execute(s) for s in ablation_runs("synthetic-appearance")}
    assert len(runs) == 4
    for model, result in runs.items():
        assert result.metrics["top1"] > 90, (model, result.metrics)
