"""Loading local pretrained weights into a registered model, for any number of classes. Nothing is
ever downloaded.

`weights` in a model's args is a checkpoint path (a file, or a Hugging Face model folder), or, for
models with a torchvision weights enum, the name of one of its weight sets (e.g. `KINETICS400_V1`,
`DEFAULT`), used only when the file already lies in the torch hub cache. The checkpoint's keys are read
as vidbench's own or, failing that, through the key map of each layout known for the model's arch
(layouts.py), or through the one `weights_map` names or gives.

Every backbone tensor must load. The model's declared classifier head (ModelInfo.head) keeps the
freshly built model's initialisation when the checkpoint's head is missing or has another shape (another
class count): that is what lets a Kinetics-400 checkpoint start a 5-class fine-tune. So do the modules a
layout's checkpoints lack by nature (LRCN's RNN over ImageNet weights, VideoMAE's fc_norm after its
masked-autoencoder pre-training). What happened is returned as a LoadReport; anything else that does not
fit is a one-line RegistryError, and nothing is loaded.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch
import torch.nn as nn

from vidbench.errors import RegistryError
from vidbench.models.checkpoints import HF_WEIGHT_FILES, read_checkpoint, weights_file
from vidbench.models.key_maps import apply_rules
from vidbench.models.layouts import NATIVE, candidate_maps
from vidbench.models.meta import meta_model
from vidbench.models.registry import WEIGHTS_ARGS, model_info

_REPORT_ATTR = "_vidbench_load_report"


@dataclass(frozen=True)
class LoadReport:
    """What loading a checkpoint did, for a run's detail."""

    source: str  # the file read
    layout: str  # the key map used: a layout name, or "weights_map" for rules given by the user
    loaded: int  # tensors copied into the model
    reinitialised: tuple[str, ...]  # the model's (head) keys left at their fresh initialisation
    ignored: tuple[str, ...] = ()  # checkpoint keys the key map drops on purpose
    filled: tuple[str, ...] = ()  # model keys set to an identity the source model does not have

    def as_detail(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def resolve_weights(weights: str, torchvision_enum: str | None) -> Path:
    """The local file `weights` names; a RegistryError when there is none."""
    path = Path(os.path.expanduser(weights))
    if (found := weights_file(path)) is not None:
        return found
    if path.is_dir():
        raise RegistryError(f"weights folder {weights!r} holds none of {', '.join(HF_WEIGHT_FILES)}")
    if torchvision_enum is not None and "/" not in weights and not path.suffix:
        from torchvision.models import get_weight

        try:
            entry = get_weight(f"{torchvision_enum}.{weights}")
        except (ValueError, KeyError, AttributeError):
            raise RegistryError(f"weights {weights!r}: not a file, and not one of {torchvision_enum}'s weight sets") \
                from None
        cached = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(entry.url)
        if not cached.is_file():
            raise RegistryError(f"weights {weights!r} ({torchvision_enum}) are not in the torch cache ({cached}); "
                                "vidbench downloads nothing: place the file there or give a path")
        return cached
    raise RegistryError(f"weights file {weights!r} does not exist")


def _cut(items: list[str], n: int = 3, sep: str = ", ") -> str:
    return sep.join(items[:n]) + (f"{sep.strip()} …" if len(items) > n else "")


@dataclass
class _Fit:
    """How a renamed checkpoint fits a model: what to load, which head keys stay fresh, what is wrong."""

    load: dict[str, torch.Tensor]
    reinitialised: list[str]
    problems: list[str]
    matched: int  # model keys the checkpoint fills with the right shape: ranks the layouts that do not fit


def _prefixed(keys: Iterable[str], modules: Iterable[str]) -> list[str]:
    prefixes = tuple(f"{m}." for m in modules)
    return [k for k in keys if k.startswith(prefixes)] if prefixes else []


def _fit(own: Mapping[str, torch.Tensor], state: Mapping[str, torch.Tensor], head: Iterable[str],
         fresh: Iterable[str] = ()) -> _Fit:
    head_keys = _prefixed(own, head)
    fresh_keys = set(_prefixed(own, fresh))
    load, missing, shapes, kept = {}, [], [], []
    head_fits = bool(head_keys)
    for key, target in own.items():
        tensor = state.get(key)
        if tensor is None:
            if key in head_keys:
                head_fits = False
            elif key in fresh_keys:
                kept.append(key)
            elif not key.endswith("num_batches_tracked"):  # a counter, absent from older checkpoints
                missing.append(key)
            continue
        if tensor.shape != target.shape and tensor.numel() == target.numel() and \
                [d for d in tensor.shape if d != 1] == [d for d in target.shape if d != 1]:
            tensor = tensor.reshape(target.shape)  # a Linear's weight for a 1×1×1 convolution, or back
        if tensor.shape == target.shape:
            load[key] = tensor
        elif key in head_keys:
            head_fits = False
        else:
            shapes.append(f"{key}: checkpoint {tuple(tensor.shape)} vs model {tuple(target.shape)}")
    reinitialised = kept + ([] if head_fits else head_keys)
    for key in reinitialised:
        load.pop(key, None)
    unexpected = sorted(set(state) - set(own))
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s) ({_cut(sorted(missing))})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s) ({_cut(unexpected)})")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatch(es) ({_cut(shapes, 1, '; ')})")
    return _Fit(load, reinitialised, problems, matched=len(load))


def plan_weights(own: Mapping[str, torch.Tensor], checkpoint: Mapping[str, torch.Tensor], source: str,
                 model_name: str, arch: str | None = None, head: Iterable[str] = (),
                 weights_map: Any = None) -> tuple[dict[str, torch.Tensor], LoadReport]:
    """The tensors to load into a model whose state dict is `own` (real or on the meta device), and the
    report; a RegistryError naming the model and the first mismatches when no key map makes it fit."""
    head = tuple(head)
    best: tuple[_Fit, str] | None = None
    ways = candidate_maps(arch, weights_map)
    for way in ways:
        state, ignored = apply_rules(checkpoint, way.rules)
        filled = way.fill(state) if way.fill is not None else []
        fit = _fit(own, state, head, way.fresh)
        if not fit.problems:
            return fit.load, LoadReport(source, way.name, len(fit.load), tuple(fit.reinitialised), tuple(ignored),
                                        tuple(filled))
        if best is None or fit.matched > best[0].matched:
            best = (fit, way.name)
    fit, name = best
    read_as = "" if name == NATIVE else f" (read as {name})"
    tried = f" [layouts tried: {', '.join(w.name for w in ways)}; weights_map: can name one or give rules]" \
        if len(ways) > 1 else ""
    raise RegistryError(f"weights {source!r} do not fit model {model_name!r}{read_as}: {'; '.join(fit.problems)}"
                        f"{tried}")


def load_weights(model: nn.Module, weights: str, model_name: str = "model", torchvision_enum: str | None = None,
                 *, arch: str | None = None, head: Iterable[str] = (), weights_map: Any = None) -> LoadReport:
    """Load the checkpoint `weights` names into `model` (all or nothing) and say what was done."""
    path = resolve_weights(weights, torchvision_enum)
    checkpoint = read_checkpoint(path)
    load, report = plan_weights(model.state_dict(), checkpoint, str(path), model_name, arch, head, weights_map)
    model.load_state_dict(load, strict=False)
    setattr(model, _REPORT_ATTR, report)
    return report


def load_report(model: nn.Module) -> LoadReport | None:
    """The LoadReport of the weights create_model loaded into `model`; None when it loaded none."""
    return getattr(model, _REPORT_ATTR, None)


def check_weights(name: str, args: Mapping[str, Any], num_classes: int = 400) -> LoadReport | None:
    """Validate `args["weights"]` (and `args["weights_map"]`) against the registered model `name` before
    any run: the model is built on the meta device (no memory, no init) and the checkpoint's keys and
    shapes are matched, nothing is copied. The report is the one a run with `num_classes` gets; None
    when there are no weights. A RegistryError says what does not fit."""
    if args.get("weights") is None:
        return None
    info = model_info(name)
    try:
        model = meta_model(name, num_classes, dict(args))
    except (ValueError, TypeError) as e:
        builder_args = {k: v for k, v in args.items() if k not in WEIGHTS_ARGS}
        raise RegistryError(f"model {name!r} cannot be built with {builder_args}: {e}") from None
    path = resolve_weights(str(args["weights"]), info.torchvision_weights)
    return plan_weights(model.state_dict(), read_checkpoint(path), str(path), name, info.arch, info.head,
                        args.get("weights_map"))[1]
