"""DataLoaders over the datasets, and the input pipeline's throughput.

`make_loader` builds the loader every stage should use: seeded (shuffle order and per-worker RNGs
derive from `seed`), workers from the cores by default for decoding datasets, pinned memory for CUDA,
persistent workers, and a collate that drops skipped (unreadable) videos — a batch left empty is not
yielded at all.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import time
import warnings
from typing import Any, Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from vidbench.devices import device_ops

MAX_DEFAULT_WORKERS = 8


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def default_num_workers() -> int:
    """One worker per core but one (the main process trains), at most 8."""
    return max(0, min(MAX_DEFAULT_WORKERS, available_cores() - 1))


def resolve_num_workers(dataset: Dataset, num_workers: int | None = None) -> int:
    """Workers for `dataset`: the argument, else the dataset's `num_workers` arg, else the cores' default
    for a decoding dataset and 0 for one generated in memory. 0 inside a daemonic process (which may not
    start children), with a warning."""
    if num_workers is None:
        num_workers = getattr(dataset, "num_workers", None)
    if num_workers is None:
        num_workers = default_num_workers() if hasattr(dataset, "decoder_backend") else 0
    if num_workers > 0 and multiprocessing.current_process().daemon:
        warnings.warn(f"a daemonic process cannot start DataLoader workers: loading in the main process "
                      f"instead of {num_workers} worker(s)", RuntimeWarning, stacklevel=2)
        return 0
    return int(num_workers)


class ClipBatch(list):
    """(clip, label) items (None for a skipped video) whose clips are already the rows of `clips`, in
    order: `collate_videos` takes that tensor as the batch instead of copying the clips into a new one."""

    def __init__(self, items: list[Any], clips: torch.Tensor):
        super().__init__(items)
        self.clips = clips


def empty_clips(shape: tuple[int, ...]) -> torch.Tensor:
    """An empty float32 tensor for clips. In a DataLoader worker it is in shared memory, as
    default_collate makes it, so that sending it to the main process copies nothing. Elsewhere it comes
    from NumPy's plain malloc: torch.empty's 64-byte-aligned posix_memalign leaves a freed batch's
    hole a few bytes too small for the next one, so each batch got fresh pages from the OS (~2,000 page
    faults per batch of four 16x112x112 clips)."""
    if torch.utils.data.get_worker_info() is None:
        return torch.from_numpy(np.empty(shape, np.float32))
    storage = torch.UntypedStorage._new_shared(math.prod(shape) * 4)
    return torch.empty(0).set_(storage, 0, shape)


def collate_videos(batch: list[Any]) -> Any:
    """default_collate over the items that are not None (skipped videos); None when none is left."""
    items = [item for item in batch if item is not None]
    if not items:
        return None
    if isinstance(batch, ClipBatch):
        return [batch.clips, torch.tensor([label for _, label in items])]
    return default_collate(items)


def seed_worker(worker_id: int) -> None:
    """worker_init_fn: seed Python and NumPy from the worker's torch seed (base seed + worker id, drawn
    from the loader's generator) and keep each worker to one intra-op thread."""
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(1)


class VideoLoader(DataLoader):
    """A DataLoader that passes over batches that skipped videos left empty."""

    def __iter__(self) -> Iterator[Any]:
        for batch in super().__iter__():
            if batch is not None:
                yield batch


def make_loader(dataset: Dataset, batch_size: int, *, shuffle: bool = False, num_workers: int | None = None,
                device: str | torch.device = "cpu", seed: int = 0, drop_last: bool = False,
                prefetch_factor: int | None = None) -> VideoLoader:
    """The DataLoader for a split: seeded, workers per `resolve_num_workers`, pinned memory on CUDA,
    persistent workers when there are any, skipped videos dropped from batches."""
    workers = resolve_num_workers(dataset, num_workers)
    extra: dict[str, Any] = {}
    if workers > 0:
        extra = {"persistent_workers": True, "worker_init_fn": seed_worker, "prefetch_factor": prefetch_factor or 2}
    return VideoLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=workers,
                       collate_fn=collate_videos, pin_memory=device_ops(device).pin_memory,
                       generator=torch.Generator().manual_seed(seed), drop_last=drop_last, **extra)


def batch_clips(clips: torch.Tensor) -> int:
    """Clips in a batch: (B, C, T, H, W) → B; multi-view (B, V, C, T, H, W) → B × V."""
    return clips.shape[0] * (clips.shape[1] if clips.ndim == 6 else 1)


def _endless(loader: DataLoader) -> Iterator[Any]:
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("the dataset gave no readable clip")


def measure_data_throughput(dataset: Dataset, batch_size: int, num_workers: int | None = None, *,
                            batches: int = 10, warmup: int = 1, seed: int = 0,
                            device: str | torch.device = "cpu") -> float:
    """Decode + transform rate of the input pipeline, in clips/s: `batches` batches of the loader
    `make_loader` builds (shuffled, seeded), timed after `warmup` batches (worker start-up, first opens).
    A small dataset is cycled through again. Multi-view items count every view."""
    if batches < 1 or warmup < 0:
        raise ValueError("batches must be at least 1 and warmup at least 0")
    loader = make_loader(dataset, batch_size, shuffle=True, num_workers=num_workers, device=device, seed=seed)
    stream = _endless(loader)
    try:
        for _ in range(warmup):
            next(stream)
        clips = 0
        start = time.perf_counter()
        for _ in range(batches):
            inputs = next(stream)[0]
            clips += batch_clips(inputs)
        elapsed = time.perf_counter() - start
    finally:
        stream.close()
        del loader
    return clips / elapsed
