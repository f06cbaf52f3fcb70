"""The feature cache of frozen-backbone probes: an encoder's features of one split (one drawn view of the
training split, or the validation views) computed once and kept under `<run folder>/features/`.

A file is named by the hash of everything that changes its features (`fields`): vidbench's and torch's
versions, the model and its args (the weights path left out), the encoder's state (a hash of its tensors,
head excluded: the weights file's content, `weights_map`, a random initialisation's seed all land there),
the dataset, its args and the data seed (synthetic blobs and training augmentation are drawn from the run's
seed), clip length, resolution, frame stride, the split, the drawn view, the feature kind, precision,
memory format and device type. Whatever else differs between probe runs (learning rate, optimizer,
epochs, schedule, batch size, the head's settings) reuses the file.

A file is trusted only whole: written to a temporary name and renamed, and on reading its fields, its
length and a checksum of its tensors must match, otherwise it is rebuilt (and the detail says why).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from vidbench.errors import VidbenchError

FORMAT = 1  # bump when what a file holds changes


class CacheDoesNotFit(VidbenchError):
    """The features would not fit on the disk of the run folder."""


@dataclass
class FeatureBank:
    """One split's features (N, ...) and labels (N,)."""

    features: torch.Tensor
    labels: torch.Tensor

    @property
    def nbytes(self) -> int:
        return self.features.numel() * self.features.element_size() + self.labels.numel() * 8


def tensor_digest(tensors: list[torch.Tensor]) -> str:
    """blake2b of the tensors' bytes, shapes and dtypes, in order."""
    h = hashlib.blake2b(digest_size=16)
    for t in tensors:
        t = t.detach().cpu().contiguous()
        h.update(f"{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def state_digest(model: torch.nn.Module, skip: torch.nn.Module | None = None) -> str:
    """A hash of the model's parameters and buffers outside `skip` (the head): what the encoder computes."""
    left_out = {id(t) for t in (skip.state_dict(keep_vars=True).values() if skip is not None else ())}
    state = model.state_dict(keep_vars=True)
    names = sorted(n for n, t in state.items() if id(t) not in left_out)
    return tensor_digest([state[n] for n in names]) + hashlib.blake2b(" ".join(names).encode(),
                                                                         digest_size=8).hexdigest()


def fields_digest(fields: dict[str, Any]) -> str:
    return hashlib.blake2b(json.dumps(fields, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()


def require_space(folder: Path, nbytes: int) -> None:
    """A one-line error when `nbytes` (and 10% to spare) would not fit where the cache is written."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if nbytes * 1.1 > free:
        raise CacheDoesNotFit(f"feature cache: {nbytes / 2**20:.0f} MiB of features do not fit under {folder} "
                              f"({free / 2**20:.0f} MiB free); free space or set train.feature_cache: false")


def save(path: Path, fields: dict[str, Any], bank: FeatureBank) -> None:
    """Whole or absent: written under a temporary name in the same folder, then renamed."""
    require_space(path.parent, bank.nbytes)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    payload = {"format": FORMAT, "fields": fields, "features": bank.features.cpu(), "labels": bank.labels.cpu(),
               "rows": len(bank.labels), "checksum": tensor_digest([bank.features, bank.labels])}
    try:
        torch.save(payload, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def load(path: Path, fields: dict[str, Any]) -> tuple[FeatureBank | None, str]:
    """The bank in `path` if it is whole and made from `fields`, else None and why not."""
    if not path.exists():
        return None, "absent"
    try:
        data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:  # a truncated or overwritten file: rebuilt, whatever the unpickler says
        return None, f"unreadable ({type(e).__name__})"
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("fields") != fields:
        return None, "made from other settings"
    bank = FeatureBank(data["features"], data["labels"])
    if len(bank.labels) != data.get("rows") or len(bank.features) != data.get("rows"):
        return None, "partial"
    if tensor_digest([bank.features, bank.labels]) != data.get("checksum"):
        return None, "checksum mismatch"
    return bank, "hit"


def cached(folder: Path | None, fields: dict[str, Any], build: Callable[[], FeatureBank],
           enabled: bool = True) -> tuple[FeatureBank, dict[str, Any]]:
    """The bank for `fields` from `folder`, built (and kept) when absent or not trusted; with its record for
    the run's detail: status (hit, built, rebuilt: why, or not kept), MiB, seconds."""
    started = time.perf_counter()
    path = folder / f"{fields_digest(fields)}.pt" if folder is not None and enabled else None
    bank, why = load(path, fields) if path is not None else (None, "absent")
    if bank is not None:
        status = "hit"
    else:
        bank = build()
        if path is None:
            status = "built, not kept" + ("" if enabled else " (feature_cache: false)") + (
                " (no run folder)" if folder is None and enabled else "")
        else:
            save(path, fields, bank)
            status = "built" if why == "absent" else f"rebuilt ({why})"
    record = {"status": status, "mib": round(bank.nbytes / 2**20, 3), "seconds": round(time.perf_counter() - started, 3),
              "rows": len(bank.labels)}
    if path is not None:
        record["file"] = path.name
    return bank, record
