"""Execution backends: how a run's model is prepared, called, trained and profiled (see ARCHITECTURE.md,
"The backend seam"). Eager PyTorch is the first; a deployment runtime is one module implementing
`ExportedBackend` (a conversion, its input and output), added to BACKENDS, and chosen per run by
`backend_for`.

Importing this package imports no torch and no runtime package: expansion asks `unsupported()` of every
run before anything runs.
"""

from __future__ import annotations

from vidbench.backends.aoti import ExportBackend
from vidbench.backends.base import Backend, RuntimeUnsupported
from vidbench.backends.eager import EagerBackend
from vidbench.backends.exported import ExportedBackend
from vidbench.backends.onnxruntime import OnnxRuntimeBackend
from vidbench.backends.openvino import OpenVinoBackend
from vidbench.backends.tensorrt import TensorRtBackend

# runtime (the `runtimes` axis) → backend; Inductor is eager PyTorch through torch.compile (spec.compile)
BACKENDS: dict[str, Backend] = {"eager": EagerBackend(), "inductor": EagerBackend(), "export": ExportBackend(),
                                "onnxruntime": OnnxRuntimeBackend(), "openvino": OpenVinoBackend(),
                                "tensorrt": TensorRtBackend()}


def backend_for(spec) -> Backend:
    """The backend of the run's runtime."""
    return BACKENDS[getattr(spec, "runtime", "eager")]


__all__ = ["BACKENDS", "Backend", "EagerBackend", "ExportBackend", "ExportedBackend", "OnnxRuntimeBackend",
           "OpenVinoBackend", "RuntimeUnsupported", "TensorRtBackend", "backend_for"]
