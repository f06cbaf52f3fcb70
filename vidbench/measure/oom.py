"""Whether an error is the device (or the host) running out of memory: the auto-batch search's signal and
an `oom` run's status."""

from __future__ import annotations

import torch


def is_out_of_memory(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, torch.OutOfMemoryError) or "out of memory" in text or "can't allocate memory" in text
