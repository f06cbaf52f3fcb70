"""Execution backends: how a run's model is prepared, called, trained and profiled (see ARCHITECTURE.md,
"The backend seam"). Eager PyTorch is the first; a backend is one module implementing `Backend`, added
to BACKENDS, and chosen per run by `backend_for`.

Importing this package imports no torch: expansion asks `unsupported()` of every run before anything runs.
"""

from __future__ import annotations

from vidbench.backends.base import Backend, RuntimeUnsupported
from vidbench.backends.eager import EagerBackend
from vidbench.backends.onnxruntime import OnnxRuntimeBackend

# runtime (the `runtimes` axis) → backend; Inductor is eager PyTorch through torch.compile (spec.compile)
BACKENDS: dict[str, Backend] = {"eager": EagerBackend(), "inductor": EagerBackend(),
                                "onnxruntime": OnnxRuntimeBackend()}


def backend_for(spec) -> Backend:
    """The backend of the run's runtime."""
    return BACKENDS[getattr(spec, "runtime", "eager")]


__all__ = ["BACKENDS", "Backend", "EagerBackend", "OnnxRuntimeBackend", "RuntimeUnsupported", "backend_for"]
