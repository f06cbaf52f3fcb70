"""The model registry; importing this package registers every built-in model."""

from vidbench.models import (  # noqa: F401  (registration)
    cnn2d,
    cnn3d,
    cnn_rnn,
    i3d,
    slowfast,
    torchvision_transformers,
    transformers,
    videomae,
    vivit,
    x3d,
)
from vidbench.models.registry import (
    FAMILIES,
    InputLimits,
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register_model,
)

__all__ = ["FAMILIES", "InputLimits", "ModelInfo", "create_model", "list_models", "model_info", "register_model"]
