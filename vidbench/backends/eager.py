"""Eager PyTorch (optionally through torch.compile when the run asks for `compile`): the first backend."""

from __future__ import annotations

from typing import Any, Callable, Iterable

from vidbench.backends.base import Backend, RuntimeUnsupported, one_line
from vidbench.backends.cold import compile_cold


class EagerBackend(Backend):
    name = "eager"

    def prepare(self, model, spec) -> Any:
        import torch

        model = model.to(torch.device(spec.device))
        if spec.channels_last:
            to_channels_last(model)
        if not spec.compile:
            return model
        compile_cold()
        return torch.compile(model)

    def compile_refusal(self, error, spec):
        """Under the inductor runtime, an error raised by TorchDynamo or Inductor (while compiling the first
        call or recompiling a later one) is the compiler's refusal of the model, as a converter's is for the
        exported runtimes."""
        compiler = type(error).__module__.startswith(("torch._dynamo", "torch._inductor"))
        return RuntimeUnsupported(one_line(error)) if spec.compile and compiler else None

    def parity(self, prepared, spec) -> dict[str, float]:
        """Under the inductor runtime, the compiled model against the same module run eagerly (in the run's
        precision), on seeded clips in whole batches of the run's size (no new shape to compile for)."""
        if not spec.compile:
            return {}
        from vidbench.backends.exported import check_parity, parity_clips

        return check_parity(eager_call(prepared._orig_mod, spec), eager_call(prepared, spec), parity_clips(spec),
                            spec)

    def forward(self, prepared, clips, spec) -> Callable[[], Any]:
        call = eager_call(prepared, spec)
        return lambda: call(clips)

    def train_step(self, model, optimizer, spec):
        import torch

        from vidbench.measure.training import make_train_step

        return make_train_step(model, optimizer, torch.device(spec.device), spec.precision)

    def peak_memory(self, fn: Callable[[], object], spec, resident: Iterable) -> int | None:
        """The tensor peak; None for a compiled model without an allocator counter (the CPU): Inductor's
        kernels allocate their buffers past the dispatcher the tracker watches, and the tracker's mode
        would make TorchDynamo recompile (or run eager) under it. Its resident memory is measured instead."""
        from vidbench.devices import device_ops
        from vidbench.measure.memory import peak_memory_bytes

        if spec.compile and not device_ops(spec.device).has_allocator_peak:
            return None
        return peak_memory_bytes(fn, spec.device, resident)


def eager_call(module, spec) -> Callable[[Any], Any]:
    """`module` called as a run's inference calls it: no autograd, autocast in the run's precision (fp32:
    the module as it is)."""
    import torch

    from vidbench.measure.precision import autocast

    device = torch.device(spec.device)

    def call(clips):
        with torch.no_grad(), autocast(device, spec.precision):
            return module(clips)

    return call


def to_channels_last(model) -> None:
    """channels_last_3d for 5-D weights (3D convs), channels_last for 4-D ones (the 2D convs of per-frame
    models); `Module.to(memory_format=...)` would refuse a model that mixes ranks."""
    import torch

    formats = {5: torch.channels_last_3d, 4: torch.channels_last}
    for param in model.parameters():
        if param.dim() in formats:
            param.data = param.data.contiguous(memory_format=formats[param.dim()])
