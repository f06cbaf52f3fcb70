"""Inductor: eager PyTorch through `torch.compile` (the `inductor` runtime, which `compile: true` is an alias
of). The first call compiles (`compile_s`); the compiled model is then checked against the same module run
eagerly; an error of TorchDynamo or Inductor is the compiler's refusal of the model, a finding."""

from __future__ import annotations

from typing import Callable, Iterable

from vidbench.backends.base import Prepared, RuntimeUnsupported, Shapes, one_line
from vidbench.backends.cold import compile_cold
from vidbench.backends.eager import EagerBackend
from vidbench.backends.parity import check_parity, eager_call, parity_clips
from vidbench.backends.registry import register_backend


@register_backend
class InductorBackend(EagerBackend):
    name = "inductor"

    def prepare(self, model, spec, shapes: Shapes | None = None) -> Prepared:
        import torch

        module = self.placed(model, spec)
        compile_cold()
        return Prepared(self, spec, torch.compile(module), shapes or Shapes.of(spec),
                        reference=eager_call(module, spec))

    def after_first_call(self, prepared: Prepared, seconds: float) -> dict[str, float]:
        """The first call's time is the compilation; then parity with the uncompiled module (in the run's
        precision), on seeded clips in whole batches of the run's size (no new shape to compile for)."""
        batch = prepared.shapes.batch
        return {"compile_s": seconds, **check_parity(prepared.reference, eager_call(prepared.model, prepared.spec),
                                                     parity_clips(prepared.spec, batch), batch)}

    def compile_refusal(self, error, spec):
        """An error raised by TorchDynamo or Inductor (while compiling the first call or recompiling a later
        one) is the compiler's refusal of the model, as a converter's is for the exported runtimes."""
        compiler = type(error).__module__.startswith(("torch._dynamo", "torch._inductor"))
        return RuntimeUnsupported(one_line(error)) if compiler else None

    def peak_memory(self, fn: Callable[[], object], spec, resident: Iterable) -> int | None:
        """None without an allocator counter (the CPU): Inductor's kernels allocate their buffers past the
        dispatcher the tracker watches, and the tracker's mode would make TorchDynamo recompile (or run
        eager) under it. Its resident memory is measured instead."""
        from vidbench.devices import device_ops

        if not device_ops(spec.device).has_allocator_peak:
            return None
        return super().peak_memory(fn, spec, resident)
