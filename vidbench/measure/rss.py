"""The process's resident memory: what a runtime whose tensors PyTorch cannot see still occupies.

Linux keeps a resident-set high-water mark (VmHWM) that writing 5 to /proc/self/clear_refs resets, so the
peak while one callable runs is exact (the whole process: interpreter, libraries, weights, the runtime's
buffers), measured the same way for every runtime. Elsewhere there is no such reset: None, never a guess.
"""

from __future__ import annotations

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


def rss_high_water_mib(fn: Callable[[], object]) -> float | None:
    """The process's peak resident memory (MiB) while `fn` runs, or None where it cannot be reset."""
    gc.collect()
    if not reset_high_water():
        return None
    fn()
    return _status_kib("VmHWM") / KIB
