"""The known answer that proves the whole accuracy path (issue 4): trained as in suites/ablation.yaml, an
order-agnostic model (TSN, average consensus) stays at chance on synthetic-motion, while models that relate
frames (C3D, LRCN, TimeSformer) learn it; on synthetic-appearance every model learns it."""

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
@pytest.mark.xfail(strict=False, reason=(
    "issue #4 open: lrcn_tiny's result on synthetic-motion depends on the seed. At the suite's settings (32 px "
    "x 8 frames, 512 training clips, 10 epochs, lr 3e-3) seed 0 stays at chance (24.2%) while seeds 1 and 2 "
    "reach 70% and 56%; seed 0 stays at chance with lr 1e-3, a cosine schedule with warm-up, batch 8, 20 "
    "epochs, a forget-gate bias of 1 or orthogonal recurrent weights (2026-11-28). Over seeds 0-2, 1024 "
    "clips gave 98/84/97%, 2048 clips x 5 epochs 56/97/75%, one blob instead of three 98/100/32%. "
    "timesformer_tiny, never reached by this test's loop (it stops at lrcn_tiny), scored 69.9% at 32 px x 8 "
    "frames in the committed reference run of the suite (reports/ablation-cpu/). TSN at chance and C3D at 100% hold."))
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
