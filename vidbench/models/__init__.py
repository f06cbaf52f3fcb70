"""The models: declarations (families, input limits, model info, published results) import without torch;
every other name of the face (`create_model`, `model_info`, `list_models`, `register_model`, ...) resolves
on first use through `zoo.py`, which registers every built-in model first (PEP 562)."""

from vidbench.lazy import lazy_face
from vidbench.models.families import FAMILIES
from vidbench.models.published import Published
from vidbench.models.registry import InputLimits, ModelInfo

_ZOO = "vidbench.models.zoo"
_FACE = {name: _ZOO for name in ("check_weights", "create_model", "list_models", "meta_model", "model_info",
                                 "register_model", "register_table")}

__all__ = ["FAMILIES", "InputLimits", "ModelInfo", "Published", *sorted(_FACE)]

__getattr__, __dir__ = lazy_face(__name__, _FACE)
