"""Eager PyTorch: the model moved to the run's device (and memory format) and called as it is; the backend
that trains, for itself and for every runtime that does not."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from vidbench.backends.base import Backend, Prepared, Shapes
from vidbench.backends.parity import eager_call
from vidbench.backends.registry import register_backend


@register_backend
class EagerBackend(Backend):
    name = "eager"

    def prepare(self, model, spec, shapes: Shapes | None = None) -> Prepared:
        return Prepared(self, spec, self.placed(model, spec), shapes or Shapes.of(spec))

    @staticmethod
    def placed(model, spec):
        """`model` on the run's device, in its memory format."""
        import torch

        model = model.to(torch.device(spec.device))
        if spec.channels_last:
            to_channels_last(model)
        return model

    def forward(self, model, clips, spec) -> Callable[[], Any]:
        call = eager_call(model, spec)
        return lambda: call(clips)

    def train_step(self, model, optimizer, spec):
        import torch

        from vidbench.measure.training import make_train_step

        return make_train_step(model, optimizer, torch.device(spec.device), spec.precision)

    def peak_memory(self, fn: Callable[[], object], spec, resident: Iterable) -> int | None:
        from vidbench.measure.memory import peak_memory_bytes

        return peak_memory_bytes(fn, spec.device, resident)


def to_channels_last(model) -> None:
    """channels_last_3d for 5-D weights (3D convs), channels_last for 4-D ones (the 2D convs of per-frame
    models); `Module.to(memory_format=...)` would refuse a model that mixes ranks."""
    import torch

    formats = {5: torch.channels_last_3d, 4: torch.channels_last}
    for param in model.parameters():
        if param.dim() in formats:
            param.data = param.data.contiguous(memory_format=formats[param.dim()])
