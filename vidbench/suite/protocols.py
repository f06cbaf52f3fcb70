"""A run's transfer protocol checked against its model before any run: `freeze` within the model's stages
and only with `partial`, `layer_decay` only where something fine-tunes."""

from __future__ import annotations

import functools
import json
from typing import Any

from vidbench.axes import NEUTRAL_TRAIN, PROBES
from vidbench.models.stages import acts_on_stages, model_stages, no_stages_reason

TRAINED = {"accuracy", "train_throughput", "memory"}


@functools.lru_cache(maxsize=None)
def _stage_count(model: str, args_json: str) -> int:
    from vidbench.models import meta_model

    return len(model_stages(model, meta_model(model, 10, json.loads(args_json))))


def probe_reason(spec: Any, protocol: str) -> str | None:
    """Probe keys only where a probe (or k-NN) reads them; an attentive probe only where it is what trains."""
    train, metrics = spec.train, set(spec.metrics)
    if protocol not in PROBES:
        for key in ("probe_views", "feature_cache", "probe_depth", "probe_heads"):
            if key in train and train[key] != NEUTRAL_TRAIN[key] and not (key == "probe_views" and "knn" in metrics):
                return (f"train.{key} = {train[key]!r}: applies to a frozen-backbone probe (train.protocol = "
                        f"linear_probe or attentive_probe), not to {protocol!r}")
        return None
    if protocol == "attentive_probe" and (timed := sorted(metrics & {"train_throughput", "memory"})):
        return (f"train.protocol = 'attentive_probe' with metrics {timed}: those time the model's own training "
                "step, not the probe's; list the metrics without them (accuracy, knn, latency, ...)")
    if protocol == "attentive_probe" and train.get("save_weights"):
        return ("train.save_weights with 'attentive_probe': its head is not the model's, so the weights would not "
                "load as `weights:`; leave save_weights out")
    if protocol == "attentive_probe" and getattr(spec, "runtime", "eager") not in ("eager", "inductor"):
        return f"train.protocol = 'attentive_probe' trains and validates in eager, not under runtime {spec.runtime!r}"
    return None


def check_protocol(spec: Any) -> str | None:
    """Why the spec's train block cannot apply to its model, or None."""
    if not TRAINED & set(spec.metrics):
        return None
    train = spec.train
    protocol, freeze = train.get("protocol", "full"), int(train.get("freeze") or 0)
    decay = float(train.get("layer_decay") or 1.0)
    if protocol != "partial" and freeze:
        return f"train.freeze = {freeze}: freezing stages is the `partial` protocol (train.protocol = {protocol!r})"
    if protocol in PROBES and decay != 1.0:
        return ("train.layer_decay applies to fine-tuning (full or partial), not to "
                f"{'a linear' if protocol == 'linear_probe' else 'an attentive'} probe")
    if (probing := probe_reason(spec, protocol)) is not None:
        return probing
    if acts_on_stages(train) and (undeclared := no_stages_reason(spec.model)):
        return undeclared
    if protocol == "partial":
        stages = _stage_count(spec.model, json.dumps(spec.model_args, sort_keys=True, default=str))
        if not 1 <= freeze <= stages:
            return (f"train.freeze = {freeze}: the model has {stages} stages; `partial` freezes 1 to {stages} "
                    "of them")
    return None
