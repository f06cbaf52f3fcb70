"""Peak memory held by tensors while a callable runs.

CUDA: the caching allocator's own peak (`max_memory_allocated`). CPU has no such counter, so a
dispatch-level tracker sees every op's outputs, counts each storage once while it is alive (a weak
reference tells when it is freed) and keeps the peak of the live total. Weights, buffers and inputs
alive at the start count too, so the figure is comparable with the CUDA one. Kernels' private
scratch buffers (e.g. oneDNN workspaces) are invisible to it.
"""

from __future__ import annotations

import weakref
from typing import Callable, Iterable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from vidbench.devices import MIB, device_ops

__all__ = ["MIB", "TensorPeakTracker", "module_tensors", "peak_memory_bytes"]


class TensorPeakTracker(TorchDispatchMode):
    """Tracks live tensor storage bytes and their peak while active."""

    def __init__(self):
        super().__init__()
        self._live: dict[int, tuple[weakref.ref, int]] = {}
        self.current = 0
        self.peak = 0

    def track(self, tensor: torch.Tensor) -> None:
        try:
            storage = tensor.untyped_storage()
        except (RuntimeError, NotImplementedError):  # sparse or storage-less tensors
            return
        key, nbytes = id(storage), storage.nbytes()
        entry = self._live.get(key)
        if entry is not None:
            if nbytes > entry[1]:  # resized in place
                self._live[key] = (entry[0], nbytes)
                self._grow(nbytes - entry[1])
            return
        self._live[key] = (weakref.ref(storage, lambda _ref, key=key: self._free(key)), nbytes)
        self._grow(nbytes)

    def track_all(self, tensors: Iterable[torch.Tensor]) -> None:
        for t in tensors:
            self.track(t)

    def _grow(self, nbytes: int) -> None:
        self.current += nbytes
        self.peak = max(self.peak, self.current)

    def _free(self, key: int) -> None:
        entry = self._live.pop(key, None)
        if entry is not None:
            self.current -= entry[1]

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for leaf in tree_leaves(out):
            if isinstance(leaf, torch.Tensor):
                self.track(leaf)
        return out


def module_tensors(module: torch.nn.Module) -> list[torch.Tensor]:
    return [*module.parameters(), *module.buffers()]


def peak_memory_bytes(fn: Callable[[], object], device: torch.device, resident: Iterable[torch.Tensor]) -> int:
    """Peak bytes of tensors alive while `fn` runs, counting the `resident` ones (weights, inputs): the
    device allocator's own peak where it keeps one, else the live-tensor tracker."""
    ops = device_ops(device)
    peak = ops.allocator_peak_bytes(fn)
    if peak is not None:
        return peak
    tracker = TensorPeakTracker()
    tracker.track_all(resident)
    with tracker:
        fn()
    ops.synchronize()
    return tracker.peak
