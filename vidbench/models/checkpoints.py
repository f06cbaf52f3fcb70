"""Reading a checkpoint file into a flat {key: tensor} dict, whatever wraps it, without running its code.

`.safetensors` files hold nothing but tensors; everything else goes through
`torch.load(weights_only=True)`, which refuses pickled objects of arbitrary classes: such a checkpoint
is refused, never loaded unsafely. A Hugging Face model folder is read through the weights file in it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from vidbench.errors import RegistryError

# The weights file a `save_pretrained` folder holds, in the order transformers prefers them.
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Where training codebases put the state dict: PyTorchVideo / PySlowFast and the official TimeSformer
# "model_state", mmaction2 "state_dict", the official VideoMAE "model" or (DeepSpeed) "module".
WRAPPER_KEYS = ("state_dict", "model_state", "model", "module")


def weights_file(path: Path) -> Path | None:
    """The file to read for `path`: itself, or the weights file in a Hugging Face model folder."""
    if path.is_file():
        return path
    if path.is_dir():
        return next((path / name for name in HF_WEIGHT_FILES if (path / name).is_file()), None)
    return None


def _read(path: Path) -> Any:
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError:
            raise RegistryError("reading .safetensors needs the safetensors package (pip install safetensors)") \
                from None
        return load_file(str(path))
    try:  # memory-mapped: a check reads only the keys and shapes it needs
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError as e:
        if "mmap" not in str(e):  # a legacy (non-zip) file cannot be mapped; anything else is an error
            raise
    return torch.load(path, map_location="cpu", weights_only=True)


def state_dict(checkpoint: Any) -> dict[str, torch.Tensor]:
    """The tensor dict of a checkpoint saved as a state dict or wrapped in one of WRAPPER_KEYS."""
    if isinstance(checkpoint, dict):
        for key in WRAPPER_KEYS:
            if isinstance(checkpoint.get(key), dict):
                checkpoint = checkpoint[key]
                break
    if not isinstance(checkpoint, dict) or not all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        raise RegistryError("checkpoint holds no state dict of tensors")
    prefix = "module."  # saved from DataParallel / DDP
    if checkpoint and all(k.startswith(prefix) for k in checkpoint):
        checkpoint = {k[len(prefix):]: v for k, v in checkpoint.items()}
    return dict(checkpoint)


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The state dict in the checkpoint file at `path`; a one-line RegistryError naming it when unreadable."""
    try:
        checkpoint = _read(path)
    except RegistryError:
        raise
    except Exception as e:
        raise RegistryError(f"weights {str(path)!r} cannot be read: {type(e).__name__}: {_first_line(e)}") from None
    try:
        return state_dict(checkpoint)
    except RegistryError as e:
        raise RegistryError(f"weights {str(path)!r}: {e}") from None


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else ""
