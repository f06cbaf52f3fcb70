"""Loading local weights into a registered model. Nothing is ever downloaded.

`weights` in a model's args is either a checkpoint path, or, for torchvision's models, the name of
one of its weight sets (e.g. `KINETICS400_V1`, `DEFAULT`), used only when the file already lies in
the torch hub cache.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from vidbench.errors import RegistryError


def _state_dict(checkpoint: Any) -> dict[str, torch.Tensor]:
    """The tensor dict of a checkpoint saved as a state dict or wrapped in {'state_dict'|'model': ...}."""
    if isinstance(checkpoint, dict):
        for key in ("state_dict", "model", "module"):
            if isinstance(checkpoint.get(key), dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict) or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise RegistryError("checkpoint holds no state dict of tensors")
    prefix = "module."  # saved from DataParallel / DDP
    if checkpoint and all(k.startswith(prefix) for k in checkpoint):
        checkpoint = {k[len(prefix):]: v for k, v in checkpoint.items()}
    return checkpoint


def _mismatch(model: nn.Module, state: dict[str, torch.Tensor]) -> str | None:
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and own[k].shape != state[k].shape]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s) ({', '.join(missing[:3])}{', …' if len(missing) > 3 else ''})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s) ({', '.join(unexpected[:3])}"
                        f"{', …' if len(unexpected) > 3 else ''})")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatch(es) ({shapes[0]}{'; …' if len(shapes) > 1 else ''})")
    return "; ".join(problems) or None


def resolve_weights(weights: str, torchvision_enum: str | None) -> Path:
    """The local file `weights` names; a RegistryError when there is none."""
    path = Path(os.path.expanduser(weights))
    if path.is_file():
        return path
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


def load_weights(model: nn.Module, weights: str, model_name: str, torchvision_enum: str | None = None) -> None:
    path = resolve_weights(weights, torchvision_enum)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise RegistryError(f"weights {str(path)!r} cannot be read: {type(e).__name__}: {e}") from None
    try:
        state = _state_dict(checkpoint)
    except RegistryError as e:
        raise RegistryError(f"weights {str(path)!r}: {e}") from None
    problem = _mismatch(model, state)
    if problem:
        raise RegistryError(f"weights {str(path)!r} do not fit model {model_name!r}: {problem}")
    model.load_state_dict(state)
