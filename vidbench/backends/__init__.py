"""Execution backends: how a run's model is prepared, called, trained and profiled (see ARCHITECTURE.md,
"The backend seam"). Each runtime of the `runtimes` axis is one module whose backend registers itself
(`@register_backend`); `backend_for` chooses a run's. A deployment runtime implements `ExportedBackend`
(a conversion, its input and output).

Importing this package imports no torch and no runtime package: admission asks `unsupported()` of every
run before anything runs.
"""

from __future__ import annotations

# Each module registers its backend in BACKENDS as it is imported.
from vidbench.backends import aoti, eager, inductor, onnxruntime, openvino, tensorrt  # noqa: F401
from vidbench.backends.aoti import ExportBackend
from vidbench.backends.base import Backend, Prepared, RuntimeUnsupported, Shapes
from vidbench.backends.eager import EagerBackend
from vidbench.backends.exported import ExportedBackend
from vidbench.backends.inductor import InductorBackend
from vidbench.backends.onnxruntime import OnnxRuntimeBackend
from vidbench.backends.openvino import OpenVinoBackend
from vidbench.backends.registry import BACKENDS, backend_for, register_backend
from vidbench.backends.tensorrt import TensorRtBackend

__all__ = ["BACKENDS", "Backend", "EagerBackend", "ExportBackend", "ExportedBackend", "InductorBackend",
           "OnnxRuntimeBackend", "OpenVinoBackend", "Prepared", "RuntimeUnsupported", "Shapes", "TensorRtBackend",
           "backend_for", "register_backend"]
