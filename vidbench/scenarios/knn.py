"""k-NN accuracy (metric `knn`, column `knn_top1`): the frozen encoder's pooled features of the validation
split voted by their k nearest training features (`train.knn_k`, cosine). No training: the model as built
(its weights loaded), features from the cache the probes share (`scenarios/probing.py`); the training bank
holds every drawn view (`train.probe_views`, at least one draw)."""

from __future__ import annotations

import torch

from vidbench.measure.knn import flat_features, knn_top1
from vidbench.scenarios.base import Scenario, register_scenario
from vidbench.scenarios.probing import feature_detail, frozen_encoder


@register_scenario
class Knn(Scenario):
    name = "knn"
    order = 65
    serves = frozenset({"knn"})
    reads = ("train",)

    def run(self, ctx) -> None:
        encoder = frozen_encoder(ctx, "pooled")
        val = encoder.val_bank()
        banks = [encoder.train_bank(d) for d in range(max(encoder.train_draws(), 1))]
        bank = torch.cat([flat_features(b.features) for b in banks])
        labels = torch.cat([b.labels for b in banks])
        k = int(ctx.spec.train.get("knn_k") or 20)
        ctx.put("knn_top1", knn_top1(bank, labels, flat_features(val.features, ctx.views > 1), val.labels, k, ctx.data.num_classes))
        ctx.detail["knn"] = {"k": min(k, len(labels)), "bank_rows": len(labels), "feature_cache": feature_detail(encoder)}
