"""Execution backends: how a run's model is prepared, called, trained and profiled (see ARCHITECTURE.md,
"The backend seam"). Eager PyTorch is the first; a backend is one module implementing `Backend`, added
to BACKENDS, and chosen per run by `backend_for`.

Importing this package imports no torch: expansion asks `unsupported()` of every run before anything runs.
"""

from __future__ import annotations

from vidbench.backends.base import Backend
from vidbench.backends.eager import EagerBackend

BACKENDS: dict[str, Backend] = {"eager": EagerBackend()}


def backend_for(spec) -> Backend:
    """The backend that executes `spec` (eager PyTorch for every run until a `runtimes` axis chooses one)."""
    return BACKENDS["eager"]


__all__ = ["BACKENDS", "Backend", "EagerBackend", "backend_for"]
