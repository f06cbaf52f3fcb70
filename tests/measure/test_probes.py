"""The attentive probe, k-NN, the features a probe gets from each family, and the protocol's checks."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import make_spec
from vidbench.measure.attentive import AttentiveProbe, fitting_heads
from vidbench.measure.knn import flat_features, knn_top1
from vidbench.measure.probe_features import FeatureTap, NotProbeable, encode, head_module
from vidbench.models import create_model, model_info
from vidbench.run.runner import execute
from vidbench.suite.protocols import check_protocol


def test_attentive_probe_pools_tokens_with_one_query_and_v_jepa_2_defaults():
    probe = AttentiveProbe(48, 5)
    assert len(probe.blocks) == 3 and probe.heads == 16 and probe.query.shape == (1, 1, 48)
    assert probe(torch.randn(2, 7, 48)).shape == (2, 5)
    assert fitting_heads(20, 16) == 10 and fitting_heads(7, 16) == 7


def test_knn_votes_by_cosine_neighbours():
    centres = torch.eye(4)
    bank = torch.nn.functional.normalize(centres.repeat(5, 1) + 0.05 * torch.randn(20, 4), dim=1)
    labels = torch.arange(4).repeat(5)
    assert knn_top1(bank, labels, torch.nn.functional.normalize(centres, dim=1), torch.arange(4), 3, 4) == 100.0
    assert knn_top1(bank, labels, centres, torch.tensor([1, 0, 3, 2]), 3, 4) == 0.0
    views = torch.randn(3, 2, 1, 4)  # (videos, views, head calls, width)
    assert flat_features(views, views=True).shape == (3, 4)


@pytest.mark.parametrize("name", ["c3d_tiny", "tsn_tiny", "tsm_tiny", "lrcn_tiny", "vivit_tiny", "timesformer_tiny",
                                  "videomae_tiny"])
def test_every_tiny_model_hands_a_probe_pooled_features_and_tokens(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=3).eval()
    tap = FeatureTap(model, head_module(model, model_info(name).head)).__enter__()
    clips = torch.randn(2, 3, model_info(name).default_frames, 32, 32)
    pooled = encode(model, tap, clips, "pooled")  # raises unless the head on it gives the model's logits
    tokens = encode(model, tap, clips, "tokens")
    assert pooled.shape[0] == 2 and tokens.ndim == 3 and tokens.shape[:1] == (2,) and tokens.shape[1] > 1


def test_a_head_called_twice_is_not_probeable():
    class Twice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = torch.nn.Linear(4, 2)

        def forward(self, x):
            return self.head(x) + self.head(x)

    model = Twice()
    with pytest.raises(NotProbeable):
        encode(model, FeatureTap(model, model.head).__enter__(), torch.randn(3, 4), "pooled")


def _spec(metrics=("accuracy",), **train):
    base = {"epochs": 1, "optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.0, "momentum": 0.9, "batch_size": 4}
    return make_spec("c3d_tiny", metrics=metrics, train={**base, **train})


@pytest.mark.parametrize("train, metrics, says", [
    ({"protocol": "full", "probe_views": 2}, ("accuracy",), "train.probe_views = 2: applies to a frozen-backbone"),
    ({"protocol": "partial", "freeze": 1, "feature_cache": False}, ("accuracy",), "train.feature_cache"),
    ({"protocol": "attentive_probe", "layer_decay": 0.5}, ("accuracy",), "not to an attentive probe"),
    ({"protocol": "attentive_probe"}, ("accuracy", "train_throughput"), "time the model's own training step"),
])
def test_probe_settings_are_refused_where_nothing_reads_them(train, metrics, says):
    assert says in (check_protocol(_spec(metrics, **train)) or "")


def test_an_attentive_probe_does_not_save_weights_that_would_not_load():
    assert "save_weights" in check_protocol(_spec(("accuracy",), protocol="attentive_probe", save_weights=True))


def test_probe_settings_are_accepted_where_a_probe_or_knn_reads_them():
    assert check_protocol(_spec(("accuracy",), protocol="attentive_probe", probe_views=2, probe_depth=1)) is None
    assert check_protocol(_spec(("knn",), probe_views=3)) is None


def test_knn_alone_trains_nothing_and_stores_knn_top1(tmp_path):
    s = make_spec("c3d_tiny", dataset="synthetic-appearance", dataset_args={"num_classes": 4, "train_size": 16,
                  "val_size": 8}, resolution=(16, 16), clip_length=4, metrics=("knn",),
                  train={"batch_size": 8, "knn_k": 5, "epochs": 1, "optimizer": "adamw", "lr": 1e-3,
                         "weight_decay": 0.0, "momentum": 0.9})
    result = execute(s, tmp_path)
    assert result.status == "ok", result.error
    assert 0 <= result.metrics["knn_top1"] <= 100 and "top1" not in result.metrics
    assert result.detail["knn"]["k"] == 5 and result.detail["knn"]["bank_rows"] == 16
