"""The process's resident memory: what a runtime whose tensors PyTorch cannot see still occupies.

Linux keeps a resident-set high-water mark (VmHWM) that writing 5 to /proc/self/clear_refs resets, so the
peak while one callable runs is exact. A run's figure is that peak above the process's resident memory
before its model was built (freed memory handed back to the system first, the runtime's libraries
already loaded): what the model, the runtime's buffers and the activations add, measured the same way for
every runtime, and not what earlier runs in the same worker left behind. Elsewhere there is no such
reset: None, never a guess.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import resource
import sys
from pathlib import Path
from typing import Callable

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
KIB = 1024


def rss_peak_mib() -> float:
    """The process's resident-set high-water mark over its life (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else KIB)


def _status_kib(field: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_high_water() -> bool:
    """Reset VmHWM to the current RSS; False where the kernel offers no reset."""
    try:
        CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _hand_back_freed() -> None:
    """Collect garbage and return the C allocator's free pages to the system (glibc), so memory freed by
    earlier work no longer counts as resident."""
    gc.collect()
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def rss_now_mib() -> float | None:
    """The process's resident memory now (MiB), freed memory handed back first; None off Linux."""
    _hand_back_freed()
    try:
        return _status_kib("VmRSS") / KIB
    except (OSError, KeyError):
        return None


def rss_high_water_mib(fn: Callable[[], object]) -> float | None:
    """The process's peak resident memory (MiB) while `fn` runs, or None where it cannot be reset."""
    _hand_back_freed()
    if not reset_high_water():
        return None
    fn()
    return _status_kib("VmHWM") / KIB
