"""vidbench: benchmark and ablate video understanding models.

The package face (`create_model`, `list_models`, `register_model`, `create_dataset`, ...) resolves on first
use (PEP 562), so `import vidbench` and the CLI's help and usage errors do not import torch.
"""

from __future__ import annotations

from importlib import metadata

from vidbench.lazy import lazy_face

try:
    __version__ = metadata.version("vidbench")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# name → the module that defines it
_FACE = {
    "create_model": "vidbench.models", "list_models": "vidbench.models", "register_model": "vidbench.models",
    "create_dataset": "vidbench.data", "list_datasets": "vidbench.data", "register_dataset": "vidbench.data",
    "run_suite": "vidbench.api", "load_results": "vidbench.api",
}

__all__ = ["__version__", *sorted(_FACE)]


__getattr__, __dir__ = lazy_face(__name__, _FACE)
