"""Model registry: names and declarations only (timm's registry/builder split); building is builder.py's.

Everything about a model is declared where its builder is registered: family, arch, default input, input
limits, classifier head, stages (what `train.freeze` and `layer_decay` act on) and published results (or
why there are none). So a suite is checked against every model before anything runs, and a model source
can register a whole table of models from configs (`register_table`). Imports no torch.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from vidbench.errors import RegistryError
from vidbench.models.families import FAMILIES
from vidbench.registry_base import Registry

if TYPE_CHECKING:
    import torch.nn as nn

PublishedRow = Any  # a published.Published (published.py reads the registry, so it is not imported here)

Stage = tuple[str, ...]  # parameter-name prefixes
StagesFn = Callable[["nn.Module"], list[Stage]]  # a built model → its stages, input to output
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
    # The model's stages, input to output (see stages.py); None: it declares none (it takes a registered
    # model of its arch's, if any: stages.declared_stages; else freeze and layer_decay are refused for it).
    stages: StagesFn | None = None
    published: tuple[PublishedRow, ...] = ()  # its published results, the primary one first (published.py)
    no_published: str | None = None  # why it has none, when a source was looked for
    # Checks a suite's args before any run (a value the builder would refuse, e.g. an unknown timm backbone);
    # raises ValueError with the one-line reason. Called at expansion, so it imports what it needs lazily.
    check: Callable[[dict[str, Any]], None] | None = None

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
        if self.check is not None:
            try:
                self.check(dict(args))
            except ValueError as e:
                raise RegistryError(str(e)) from None


_MODELS: Registry[ModelInfo] = Registry("model")


def _published(name: str, published: Iterable[PublishedRow] | None, no_published: str | None) -> tuple:
    if published and no_published:
        raise RegistryError(f"model {name!r}: give its published results or the reason it has none, not both")
    return tuple(published or ())


def register_model(
    fn: Callable[..., nn.Module] | None = None,
    *,
    family: str,
    arch: str | None = None,
    name: str | None = None,
    default_input: tuple[int, int] = (16, 112),
    mean: tuple[float, float, float] = KINETICS_MEAN,
    std: tuple[float, float, float] = KINETICS_STD,
    limits: LimitsSpec | None = None,
    paper: str = "",
    torchvision_weights: str | None = None,
    head: str | Iterable[str] | None = None,
    stages: StagesFn | None = None,
    published: Iterable[PublishedRow] | None = None,
    no_published: str | None = None,
    check: Callable[[dict[str, Any]], None] | None = None,
):
    """Decorator registering a builder `f(num_classes, **args) -> nn.Module` under `name` (default: its
    function name).

    `default_input` is (frames, size): the clip at which `vidbench models` reports GMACs. `head`: the
    module path(s) of the final classifier, re-initialised when pretrained weights have another class count.
    `stages`: model → its stages (tuples of parameter-name prefixes, input to output), what `train.freeze`
    freezes and `train.layer_decay` scales. `published`: its published results (`Published`, the primary
    first), or `no_published`: why it has none. `check(args)`: refuses a suite's args before any run
    (ValueError with the reason).
    """
    if family not in FAMILIES:
        raise RegistryError(f"family {family!r} is not one of {', '.join(FAMILIES)}")

    def wrap(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        frames, size = default_input
        model_name = name or builder.__name__
        info = ModelInfo(
            name=model_name,
            family=family,
            arch=arch or model_name,
            builder=builder,
            default_frames=frames,
            default_size=size,
            mean=tuple(mean),
            std=tuple(std),
            limits=limits if limits is not None else InputLimits(),
            paper=paper,
            torchvision_weights=torchvision_weights,
            head=(head,) if isinstance(head, str) else tuple(head or ()),
            stages=stages,
            published=_published(model_name, published, no_published),
            no_published=no_published,
            check=check,
        )
        _MODELS.add(info.name, info)
        return builder

    return wrap(fn) if fn is not None else wrap


def register_table(rows: Iterable[Mapping[str, Any]], *, builder: Callable[..., nn.Module],
                   **common: Any) -> list[str]:
    """Register one model per row of a config table (a model source: a Hugging Face or timm family, a
    plugin's variants): each row has `name`, `config` (keyword arguments bound into `builder`) and any
    `register_model` keyword (`stages`, `published`, `default_input`, ...), which override `common`.
    Returns the names registered."""
    names = []
    for row in rows:
        row = dict(row)
        model_name, config = row.pop("name"), row.pop("config", {})
        bound = functools.partial(builder, **config)  # the config's keys stay overridable as model args
        register_model(bound, name=model_name, **{**common, **row})
        names.append(model_name)
    return names


def model_info(name: str) -> ModelInfo:
    return _MODELS.get(name)


def registered(name: str) -> ModelInfo | None:
    """The model's info, or None when no model of that name is registered (yet)."""
    return _MODELS.get(name) if name in _MODELS else None


def list_models(pattern: str | Iterable[str] | None = None, family: str | None = None) -> list[str]:
    """Registered model names matching glob pattern(s), optionally of one family."""
    names = _MODELS.names(pattern)
    if family is not None:
        names = [n for n in names if _MODELS.get(n).family == family]
    return names
