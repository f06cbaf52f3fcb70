"""Model registry: builders with their metadata (family, arch, default input, input limits).

Metadata is data next to the model (the torchvision way), so a suite can be checked against every
model's limits before anything runs.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import torch
import torch.nn as nn

from vidbench.errors import RegistryError
from vidbench.registry_base import Registry

FAMILIES = ("cnn", "cnn_rnn", "transformer")
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)
WEIGHTS_ARGS = ("weights", "weights_map")  # every model takes them: see weights.py


@dataclass(frozen=True)
class InputLimits:
    """The clip shapes a model can take; `None` means no constraint."""

    fixed_frames: int | None = None
    frame_multiple: int = 1
    size_multiple: int = 1
    min_frames: int = 1
    min_size: int = 1
    fixed_size: tuple[int, int] | None = None

    def violation(self, frames: int, height: int, width: int) -> str | None:
        """Why (frames, height, width) is impossible for the model, or None when it is fine."""
        if self.fixed_frames is not None and frames != self.fixed_frames:
            return f"clip_length {frames}: the model takes exactly {self.fixed_frames} frames"
        if frames < self.min_frames:
            return f"clip_length {frames}: the model needs at least {self.min_frames} frames"
        if frames % self.frame_multiple:
            return f"clip_length {frames}: must be a multiple of {self.frame_multiple}"
        if self.fixed_size is not None and (height, width) != tuple(self.fixed_size):
            return f"resolution {height}x{width}: the model takes exactly {self.fixed_size[0]}x{self.fixed_size[1]}"
        if min(height, width) < self.min_size:
            return f"resolution {height}x{width}: the model needs at least {self.min_size} px"
        if height % self.size_multiple or width % self.size_multiple:
            return f"resolution {height}x{width}: must be a multiple of {self.size_multiple} (patch/stride)"
        return None


LimitsSpec = InputLimits | Callable[[dict[str, Any]], InputLimits]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    family: str
    arch: str
    builder: Callable[..., nn.Module]
    default_frames: int = 16
    default_size: int = 112
    mean: tuple[float, float, float] = KINETICS_MEAN
    std: tuple[float, float, float] = KINETICS_STD
    limits: LimitsSpec = field(default_factory=InputLimits)
    paper: str = ""
    torchvision_weights: str | None = None  # name of torchvision's weights enum, e.g. "R3D_18_Weights"
    # Module path(s) of the final classifier (timm's default_cfg["classifier"]), e.g. ("fc",): the layer
    # re-initialised when pretrained weights come from a checkpoint with another class count.
    head: tuple[str, ...] = ()

    def input_limits(self, args: dict[str, Any] | None = None) -> InputLimits:
        """Limits for these constructor args (a patch size arg changes the size multiple)."""
        return self.limits(dict(args or {})) if callable(self.limits) else self.limits

    def accepted_args(self) -> set[str] | None:
        """Keyword names the builder takes besides num_classes; None when it takes **kwargs."""
        params = inspect.signature(self.builder).parameters.values()
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
            return None
        return {p.name for p in params if p.name != "num_classes"}

    def check_args(self, args: dict[str, Any]) -> None:
        if args.get("weights_map") is not None:
            from vidbench.models.layouts import parse_weights_map

            parse_weights_map(args["weights_map"])
        accepted = self.accepted_args()
        if accepted is None:
            return
        unknown = sorted(set(args) - accepted - set(WEIGHTS_ARGS))
        if unknown:
            raise RegistryError(
                f"model {self.name!r} takes no argument {unknown[0]!r} "
                f"(it takes: {', '.join(sorted(accepted)) or 'no arguments'})"
            )


_MODELS: Registry[ModelInfo] = Registry("model")


def register_model(
    fn: Callable[..., nn.Module] | None = None,
    *,
    family: str,
    arch: str | None = None,
    default_input: tuple[int, int] = (16, 112),
    mean: tuple[float, float, float] = KINETICS_MEAN,
    std: tuple[float, float, float] = KINETICS_STD,
    limits: LimitsSpec | None = None,
    paper: str = "",
    torchvision_weights: str | None = None,
    head: str | Iterable[str] | None = None,
):
    """Decorator registering a builder `f(num_classes, **args) -> nn.Module` under its function name.

    `default_input` is (frames, size): the clip at which `vidbench models` reports GMACs. `head`: the
    module path(s) of the final classifier, re-initialised when pretrained weights have another class count.
    """
    if family not in FAMILIES:
        raise RegistryError(f"family {family!r} is not one of {', '.join(FAMILIES)}")

    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        frames, size = default_input
        info = ModelInfo(
            name=builder.__name__,
            family=family,
            arch=arch or builder.__name__,
            builder=builder,
            default_frames=frames,
            default_size=size,
            mean=tuple(mean),
            std=tuple(std),
            limits=limits if limits is not None else InputLimits(),
            paper=paper,
            torchvision_weights=torchvision_weights,
            head=(head,) if isinstance(head, str) else tuple(head or ()),
        )
        _MODELS.add(info.name, info)
        return builder

    return wrap(fn) if fn is not None else wrap


def model_info(name: str) -> ModelInfo:
    return _MODELS.get(name)


def list_models(pattern: str | Iterable[str] | None = None, family: str | None = None) -> list[str]:
    """Registered model names matching glob pattern(s), optionally of one family."""
    names = _MODELS.names(pattern)
    if family is not None:
        names = [n for n in names if _MODELS.get(n).family == family]
    return names


def meta_model(name: str, num_classes: int, args: dict[str, Any]) -> nn.Module:
    """The registered model built on the meta device (no memory, no initialisation) from its args, its
    weights left unread: for counting, checking checkpoints' shapes and reading its structure."""
    info = _MODELS.get(name)
    info.check_args(dict(args))
    with torch.device("meta"):
        return info.builder(num_classes=num_classes, **{k: v for k, v in args.items() if k not in WEIGHTS_ARGS})


def create_model(name: str, num_classes: int = 400, weights: str | None = None, weights_map: Any = None,
                 **args: Any) -> nn.Module:
    """Build a registered model; it maps (B, C, T, H, W) float clips to (B, num_classes) logits.

    `weights`: a local checkpoint path (file or Hugging Face folder), or a torchvision weight-set name found
    in the torch cache; `weights_map`: how to read its keys (a layout name or [REGEX, REPLACEMENT] rules),
    ignored without `weights`. What loading did is `weights.load_report(model)`.
    """
    info = _MODELS.get(name)
    info.check_args({**args, "weights_map": weights_map})
    model = info.builder(num_classes=num_classes, **args)
    if weights is not None:
        from vidbench.models.weights import load_weights

        load_weights(model, str(weights), name, info.torchvision_weights, arch=info.arch, head=info.head,
                     weights_map=weights_map)
    return model
