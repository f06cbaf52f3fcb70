"""The built-in models, registered by importing their family files, and the package's face over them:
`vidbench.models.create_model` (and every face name but the declarations) resolves here, so whoever
uses the face finds every built-in model registered, while the registry, the families and the published
table import without torch."""

import vidbench.models.cnn2d  # noqa: F401  (registration, one family per file)
import vidbench.models.cnn3d  # noqa: F401
import vidbench.models.cnn_rnn  # noqa: F401
import vidbench.models.hf_video  # noqa: F401
import vidbench.models.i3d  # noqa: F401
import vidbench.models.slowfast  # noqa: F401
import vidbench.models.timm_backbones  # noqa: F401
import vidbench.models.torchvision_transformers  # noqa: F401
import vidbench.models.transformers  # noqa: F401
import vidbench.models.videomae  # noqa: F401
import vidbench.models.vivit  # noqa: F401
import vidbench.models.x3d  # noqa: F401
from vidbench.models.builder import create_model
from vidbench.models.meta import meta_model
from vidbench.models.registry import list_models, model_info, register_model, register_table
from vidbench.models.weights import check_weights

__all__ = ["check_weights", "create_model", "list_models", "meta_model", "model_info", "register_model",
           "register_table"]
