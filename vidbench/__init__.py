"""vidbench: benchmark and ablate video understanding models."""

from importlib import metadata

from vidbench.data import create_dataset, list_datasets, register_dataset
from vidbench.models import create_model, list_models, register_model

try:
    __version__ = metadata.version("vidbench")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = ["__version__", "create_dataset", "create_model", "list_datasets", "list_models", "register_dataset",
           "register_model"]
