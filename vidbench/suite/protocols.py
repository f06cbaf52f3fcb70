"""A run's transfer protocol checked against its model before any run: `freeze` within the model's stages
and only with `partial`, `layer_decay` only where something fine-tunes."""

from __future__ import annotations

import functools
import json
from typing import Any

from vidbench.models.stages import acts_on_stages, model_stages, no_stages_reason

TRAINED = {"accuracy", "train_throughput", "memory"}


@functools.lru_cache(maxsize=None)
def _stage_count(model: str, args_json: str) -> int:
    from vidbench.models import meta_model

    return len(model_stages(model, meta_model(model, 10, json.loads(args_json))))


def check_protocol(spec: Any) -> str | None:
    """Why the spec's train block cannot apply to its model, or None."""
    if not TRAINED & set(spec.metrics):
        return None
    train = spec.train
    protocol, freeze = train.get("protocol", "full"), int(train.get("freeze") or 0)
    decay = float(train.get("layer_decay") or 1.0)
    if protocol != "partial" and freeze:
        return f"train.freeze = {freeze}: freezing stages is the `partial` protocol (train.protocol = {protocol!r})"
    if protocol == "linear_probe" and decay != 1.0:
        return "train.layer_decay applies to fine-tuning (full or partial), not to a linear probe"
    if acts_on_stages(train) and (undeclared := no_stages_reason(spec.model)):
        return undeclared
    if protocol == "partial":
        stages = _stage_count(spec.model, json.dumps(spec.model_args, sort_keys=True, default=str))
        if not 1 <= freeze <= stages:
            return (f"train.freeze = {freeze}: the model has {stages} stages; `partial` freezes 1 to {stages} "
                    "of them")
    return None
