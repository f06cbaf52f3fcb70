"""Frozen-backbone probes on cached features, for the accuracy and k-NN scenarios (not a scenario itself).

`linear_probe` trains the model's own head on the head's cached input (the same model, batches and optimizer
as training the whole frozen model, so the same figures, without running the encoder every epoch);
`attentive_probe` trains `measure.attentive.AttentiveProbe` on the cached tokens. Features are computed in
eager PyTorch on the run's device and precision. A model whose head is not one module applied to its
input (averaged over its calls) cannot be probed from cached features: its linear probe trains the whole
frozen model as before, and the detail says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from vidbench.backends.eager import EagerBackend
from vidbench.measure.attentive import AttentiveProbe
from vidbench.measure.flops import profile_model
from vidbench.measure.frozen import FrozenEncoder, batches_of, training_loader
from vidbench.measure.probe_features import FeatureTap, HeadOnFeatures, NotProbeable, head_module
from vidbench.measure.protocols import transfer_plan
from vidbench.measure.training import EpochRecord, train_epochs
from vidbench.models import model_info


def features_folder(ctx) -> Path | None:
    """`<run folder>/features`, beside `weights/` (None: the run has no folder and keeps nothing)."""
    return None if ctx.weights_path is None else ctx.weights_path.parent.parent / "features"


def frozen_encoder(ctx, kind: str) -> FrozenEncoder:
    """The run's freshly built model, frozen, in eval mode on its device, hooked for `kind` features."""
    built = EagerBackend.placed(ctx.built_model(), ctx.spec).eval()
    for p in built.parameters():
        p.requires_grad_(False)
    tap = FeatureTap(built, head_module(built, model_info(ctx.spec.model).head)).__enter__()
    return FrozenEncoder(built, tap, ctx.spec, ctx.data, kind, features_folder(ctx),
                         bool(ctx.spec.train.get("feature_cache", True)))


def probe_head(ctx, encoder: FrozenEncoder, sample: torch.Tensor) -> tuple[torch.nn.Module, list, dict]:
    """The trainable head over the features, its parameter groups, and what trains (for the detail)."""
    train, frozen = ctx.spec.train, sum(p.numel() for p in encoder.model.parameters())
    if encoder.kind == "pooled":
        head = encoder.tap.head
        for p in head.parameters():
            p.requires_grad_(True)
        plan = transfer_plan(encoder.model, ctx.spec.model, train)
        return HeadOnFeatures(head), plan.param_groups, plan.as_detail()
    torch.manual_seed(ctx.spec.seed)
    probe = AttentiveProbe(sample.shape[-1], ctx.data.num_classes, int(train.get("probe_depth") or 4),
                           int(train.get("probe_heads") or 16)).to(ctx.device)
    trainable = sum(p.numel() for p in probe.parameters())
    ctx.detail["attentive_probe"] = {"tokens": int(sample.shape[-2]), "width": int(sample.shape[-1]),
                                     "heads": probe.heads, "depth": int(train.get("probe_depth") or 4)}
    return probe, [{"params": list(probe.parameters()), "lr": float(train["lr"])}], {
        "trainable_params": trainable, "frozen_params": frozen, "lr_groups": [float(train["lr"])]}


def head_train_flops(head: torch.nn.Module, sample: torch.Tensor) -> int:
    """FLOPs of one sample's forward and backward through the head (zeroed gradients left behind)."""
    with FlopCounterMode(display=False) as counter:
        head(sample[:1].float()).sum().backward()
    head.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def encoder_flops(ctx) -> int:
    """FLOPs of one clip's forward through the whole model (the cost's profile when it ran)."""
    s = ctx.spec
    macs = ctx.profile.macs if ctx.profile is not None else profile_model(
        s.model, ctx.data.num_classes, s.resolved_model_args(), s.clip_length, *s.resolution, top=0).macs
    return 2 * macs


@dataclass
class ProbeResult:
    model: torch.nn.Module  # the frozen model (with its trained head under a linear probe)
    head: torch.nn.Module
    history: list[EpochRecord]
    val: list  # the validation features' batches
    extract_pflops: float  # the encoder's passes of this run (0 when every bank was a hit)
    head_flops: int  # one sample's forward + backward through the head


def run_probe(ctx, validate) -> ProbeResult | None:
    """Train the run's probe on cached features, or None
    when the model's features cannot serve (the detail says why; the caller trains as before)."""
    kind = "tokens" if ctx.spec.train.get("protocol") == "attentive_probe" else "pooled"
    encoder = frozen_encoder(ctx, kind)
    try:
        val = batches_of(encoder.val_bank(), int(ctx.spec.train["batch_size"]))
        loader = training_loader(encoder)
    except NotProbeable as e:
        if kind == "tokens":
            raise NotProbeable(f"attentive_probe: model {ctx.spec.model!r}: {e}") from None
        ctx.detail["feature_cache"] = {"not used": str(e)}
        return None
    sample = val[0][0][:, 0] if ctx.views > 1 else val[0][0]
    head, groups, transfer = probe_head(ctx, encoder, sample)
    ctx.detail["transfer"] = transfer
    per_sample = head_train_flops(head, sample)
    history: list[EpochRecord] = []
    losses = train_epochs(head, loader, ctx.spec.train, ctx.device, ctx.spec.precision, params=groups,
                          evaluate=lambda: validate(ctx, head, val), train_mode=lambda m: m.train(),
                          history=history)
    ctx.detail.update(train_losses=losses, feature_cache=feature_detail(encoder))
    return ProbeResult(encoder.model, head, history, val, encoder_flops(ctx) * encoder.encoded_clips / 1e15, per_sample)


def feature_detail(encoder: FrozenEncoder) -> dict[str, Any]:
    return {"kind": encoder.kind, "probe_views": int(encoder.spec.train.get("probe_views") or 0),
            "train_draws": encoder.train_draws(), "encoded_clips": encoder.encoded_clips,
            "folder": str(encoder.folder) if encoder.folder else None, **encoder.records}
