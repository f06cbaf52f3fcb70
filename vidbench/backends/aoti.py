"""torch.export + AOTInductor: the model exported (a dynamic batch), compiled ahead of time by Inductor into
a package (`.pt2`, the artifact: generated kernels and weights) and loaded back, as a deployment without
Python model code runs it. The compilation is `export_s` (Inductor's on-disk cache, shared with the
inductor runtime, is disabled for the run: `backends/cold.py`)."""

from __future__ import annotations

from pathlib import Path

from vidbench.backends.cold import compile_cold
from vidbench.backends.base import Shapes
from vidbench.backends.exported import Converted, ExportedBackend
from vidbench.backends.registry import register_backend


@register_backend
class ExportBackend(ExportedBackend):
    name = "export"
    loads = ("torch._inductor", "torch.export")
    devices = ("cpu", "cuda")

    def convert(self, model, example, folder: Path, spec, shapes: Shapes) -> Converted:
        import torch
        from torch.export import Dim

        compile_cold()
        program = torch.export.export(model, (example,), dynamic_shapes=({0: Dim("batch")},))
        path = torch._inductor.aoti_compile_and_package(program, package_path=str(folder / "model.pt2"))
        runner = torch._inductor.aoti_load_package(path)
        return Converted(runner, lambda clips: clips, lambda out: out, runner)

    def peak_memory(self, fn, spec, resident) -> int | None:
        """On CUDA the package allocates through PyTorch's caching allocator, whose peak counts it; on the
        CPU its buffers are invisible to PyTorch (None: the resident memory is measured instead)."""
        from vidbench.devices import device_ops
        from vidbench.measure.memory import peak_memory_bytes

        if not device_ops(spec.device).has_allocator_peak:
            return None
        return peak_memory_bytes(fn, spec.device, resident)
