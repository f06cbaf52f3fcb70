"""The transfer protocol's known answer (slow: `pytest -m slow`). A backbone pretrained by vidbench on
synthetic-motion and saved, then linear-probed on synthetic-motion generated with another seed (new
blobs, the same task), reaches >= 85% top-1, while the same probe on a random initialisation stays <= 50%;
TSN, which cannot see motion, sits near chance either way. Over three probe seeds."""

from __future__ import annotations

import pytest

from tests.conftest import make_spec
from vidbench.run.runner import execute

DATA = {"num_classes": 4, "train_size": 512, "val_size": 128}
PRETRAIN = {"epochs": 8, "optimizer": "adamw", "lr": 2e-3, "weight_decay": 0.01, "momentum": 0.9,
            "batch_size": 16, "schedule": "cosine", "warmup_epochs": 1, "save_weights": True}
PROBE = {"epochs": 6, "optimizer": "adamw", "lr": 2e-3, "weight_decay": 0.0, "momentum": 0.9, "batch_size": 16,
         "schedule": "cosine", "protocol": "linear_probe"}


def _spec(model: str, seed: int, train: dict, **args):
    return make_spec(model, model_args=args, dataset="synthetic-motion", dataset_args=DATA, resolution=(32, 32),
                     clip_length=8, batch_size=8, metrics=("accuracy",), train=train, seed=seed)


@pytest.mark.slow
def test_a_pretrained_motion_backbone_probes_well_and_a_random_one_does_not(tmp_path):
    weights = {}
    for model in ("c3d_tiny", "tsn_tiny"):
        spec = _spec(model, 0, PRETRAIN)
        result = execute(spec, tmp_path)
        assert result.status == "ok", result.error
        weights[model] = result.detail["saved_weights"]
    for seed in (1, 2, 3):  # new blobs for each probe
        probe = {m: execute(_spec(m, seed, PROBE, weights=w)).metrics["top1"] for m, w in weights.items()}
        random = {m: execute(_spec(m, seed, PROBE)).metrics["top1"] for m in weights}
        assert probe["c3d_tiny"] >= 85, (seed, probe, random)
        assert random["c3d_tiny"] <= 50, (seed, probe, random)
        assert probe["tsn_tiny"] <= 50 and random["tsn_tiny"] <= 50, (seed, probe, random)
