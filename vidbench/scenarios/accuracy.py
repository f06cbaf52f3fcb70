"""Accuracy: train as the spec's train block says (protocol, schedule, evaluations), then validate (video-level
under multi-view testing). Under a deployment runtime the model trains in eager and is validated through the
runtime, with parity taken on the validation clips. With `eval_every` the curve goes into the detail and the
best top-1 into the figures; `save_weights` keeps the trained weights."""

from __future__ import annotations

import torch

from vidbench.backends.parity import ParityCheck
from vidbench.data.loader import make_loader
from vidbench.measure.accuracy import evaluate
from vidbench.measure.flops import profile_model
from vidbench.measure.protocols import transfer_plan
from vidbench.measure.training import EpochRecord, train_epochs
from vidbench.measure.views import evaluate_views
from vidbench.axes import PROBES
from vidbench.scenarios.base import Scenario, register_scenario
from vidbench.scenarios.probing import run_probe


@register_scenario
class Accuracy(Scenario):
    name = "accuracy"
    order = 60
    serves = frozenset({"accuracy"})
    reads = ("train",)

    def run(self, ctx) -> None:
        if ctx.spec.train.get("protocol") in PROBES and ctx.backend.trains and probe(ctx):
            return
        train, seed, device = ctx.spec.train, ctx.spec.seed, ctx.spec.device
        batch = int(train["batch_size"])
        train_loader = make_loader(ctx.data.train, batch, shuffle=True, device=device, seed=seed)
        val_loader = make_loader(ctx.data.val, batch, device=device, seed=seed)
        model, plan, train_mode = ctx.trainable_model()
        history: list[EpochRecord] = []
        losses = train_epochs(model, train_loader, train, ctx.device, ctx.spec.precision, params=plan.param_groups,
                              evaluate=lambda: validate(ctx, model, val_loader), train_mode=train_mode,
                              history=history)
        ctx.detail.update(train_losses=losses, train_samples=len(ctx.data.train))
        ctx.put("train_s", history[-1].seconds)
        per_clip = training_macs(ctx)
        ctx.put("train_pflops", 2 * per_clip * history[-1].clips / 1e15)
        if not ctx.backend.trains:  # a deployment runtime: the trained model evaluated through it
            validate_through_runtime(ctx, model, val_loader)
        elif history[-1].top1 is None:  # evaluated after the last epoch already when eval_every is set
            validate(ctx, model, val_loader)
        record_curve(ctx, history, per_clip)
        if train.get("save_weights"):
            save_weights(ctx, model)


def probe(ctx) -> bool:
    """A frozen-backbone probe on cached features (`scenarios/probing.py`); False when the model's features
    cannot serve one (its linear probe then trains the whole frozen model). The training time and PFLOPs
    count this run's encoder passes (none when every feature bank was a hit) and the head's epochs."""
    result = run_probe(ctx, validate)
    if result is None:
        return False
    history = result.history
    extracted = sum(r["seconds"] for r in ctx.detail["feature_cache"].values() if isinstance(r, dict)
                    and "seconds" in r and not r["status"].startswith("hit"))
    ctx.detail.update(train_samples=len(ctx.data.train), feature_s=extracted)
    ctx.put("train_s", extracted + history[-1].seconds)
    ctx.put("train_pflops", result.extract_pflops + result.head_flops * history[-1].clips / 1e15)
    if history[-1].top1 is None:
        validate(ctx, result.head, result.val)
    record_curve(ctx, history, result.head_flops / 2, result.extract_pflops, extracted)
    if ctx.spec.train.get("save_weights"):  # a linear probe's: the model with its trained head
        save_weights(ctx, result.model)
    return True


def record_curve(ctx, history: list[EpochRecord], per_clip: float, base_pflops: float = 0.0,
                 base_s: float = 0.0) -> None:
    """Top-1, loss, wall seconds and training PFLOPs (from `base_pflops` and `base_s`, a probe's feature
    extraction) at each evaluation; the best top-1 and its epoch."""
    ctx.detail["curve"] = [{"epoch": r.epoch, "loss": r.loss, "seconds": base_s + r.seconds,
                            "pflops": base_pflops + 2 * per_clip * r.clips / 1e15, "top1": r.top1} for r in history]
    if not ctx.backend.trains:  # the curve's evaluations ran in eager; the final top-1 through the runtime
        ctx.detail["curve_evaluated_in"] = "eager"
    evaluated = [r for r in history if r.top1 is not None]
    if evaluated:
        best = max(evaluated, key=lambda r: r.top1)
        ctx.put("best_top1", best.top1)
        ctx.put("best_epoch", best.epoch)


def validate(ctx, model, loader) -> float:
    """Top-1 (video-level under multi-view testing) of the model on the validation split, its figures
    into the run's metrics (the last evaluation's stay)."""
    if ctx.views > 1:  # multi-view testing: video-level beside clip-level
        views = evaluated(ctx, model, loader)
        ctx.put("top1", views.video_top1)
        ctx.put("clip_top1", views.clip_top1)
        if views.video_top5 is not None:
            ctx.put("top5", views.video_top5)
        ctx.detail.update(val_samples=views.samples, val_clips=views.clips)
        return views.video_top1
    acc = evaluated(ctx, model, loader)
    ctx.put("top1", acc.top1)
    if acc.top5 is not None:
        ctx.put("top5", acc.top5)
    ctx.detail["val_samples"] = acc.samples
    return acc.top1


def validate_through_runtime(ctx, model: torch.nn.Module, loader) -> None:
    """Convert the trained model, validate through the runtime, and take parity on the validation clips
    (eager and the runtime on every clip), replacing the parity on seeded clips."""
    model.eval()
    converted = ctx.prepared(model)
    ctx.put_all(converted.figures)
    check = ParityCheck(converted.reference, converted.model)
    validate(ctx, check, loader)
    ctx.put_all(check.figures())
    ctx.detail["parity_clips"] = f"{sum(len(r) for r in check.references)} validation clips"
    if converted.unquantized is not None:  # int8: its cost against the same model in fp32, same runtime and clips
        fp32 = top1_of(ctx, converted.unquantized, loader)
        ctx.put("top1_fp32", fp32)
        ctx.put("top1_delta", ctx.metrics["top1"] - fp32)


def top1_of(ctx, model, loader) -> float:
    """Top-1 of `model` on the validation split as `validate` measures it (video-level under multi-view
    testing), without storing it."""
    result = evaluated(ctx, model, loader)
    return result.video_top1 if ctx.views > 1 else result.top1


def evaluated(ctx, model, loader):
    """The validation split evaluated: video-level beside clip-level under multi-view testing, else per clip."""
    if ctx.views > 1:
        return evaluate_views(model, loader, ctx.data.num_classes, ctx.device, ctx.spec.precision)
    return evaluate(model, loader, ctx.data.num_classes, ctx.device, ctx.spec.precision)


def training_macs(ctx) -> int:
    """MACs of one training step per clip under the run's protocol (frozen parts need no gradients)."""
    s = ctx.spec
    if s.train.get("protocol", "full") == "full" and ctx.profile is not None:
        return ctx.profile.train_macs
    prepare = None if s.train.get("protocol", "full") == "full" else (
        lambda m: transfer_plan(m, s.model, s.train).train_mode(m))
    profile = profile_model(s.model, ctx.data.num_classes, s.resolved_model_args(), s.clip_length,
                            *s.resolution, top=0, prepare_train=prepare)
    return profile.train_macs


def save_weights(ctx, model: torch.nn.Module) -> None:
    """`<run folder>/weights/<run_id>.pt`: the trained state dict, loadable by `weights:` in a suite."""
    if ctx.weights_path is None:
        raise RuntimeError("train.save_weights: this run has no run folder to write to")
    path = ctx.weights_path
    path.parent.mkdir(parents=True, exist_ok=True)
    state = getattr(model, "_orig_mod", model).state_dict()
    tmp = path.with_suffix(".tmp")
    torch.save({k: v.detach().cpu() for k, v in state.items()}, tmp)
    tmp.replace(path)  # whole or absent: a killed run leaves no half-written checkpoint
    ctx.detail["saved_weights"] = str(path)
