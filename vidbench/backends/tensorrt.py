"""TensorRT on CUDA through torch-tensorrt (its dynamo front end): the model compiled into TensorRT
engines for a batch range (1 up to the largest batch the run uses), in the run's precision (fp32, or
fp16/bf16 kernels enabled), saved as an exported program (the artifact). Parity is checked against
eager PyTorch in the same precision (autocast), on the same clips. Not part of `deploy`: torch-tensorrt
is GPU-only (`pip install torch-tensorrt`), exercised by scripts/gpu_check.py."""

from __future__ import annotations

from pathlib import Path

from vidbench.backends.base import Shapes
from vidbench.backends.exported import Converted, ExportedBackend
from vidbench.backends.registry import register_backend

MAX_BATCH = 64  # the engines' largest batch at least; more when the shapes the run serves are larger


@register_backend
class TensorRtBackend(ExportedBackend):
    name = "tensorrt"
    packages = ("torch_tensorrt",)
    loads = ("torch_tensorrt",)
    install = "pip install torch-tensorrt (GPU only)"
    devices = ("cuda",)
    precisions = ("fp32", "fp16", "bf16")

    def convert(self, model, example, folder: Path, spec, shapes: Shapes) -> Converted:
        import torch
        import torch_tensorrt

        dtypes = {"fp32": {torch.float32}, "fp16": {torch.float32, torch.float16},
                  "bf16": {torch.float32, torch.bfloat16}}
        shape = tuple(example.shape[1:])
        top = max(MAX_BATCH, shapes.largest)
        spec_input = torch_tensorrt.Input(min_shape=(1, *shape), opt_shape=(shapes.batch, *shape),
                                          max_shape=(top, *shape), dtype=torch.float32)
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[spec_input],
                                          enabled_precisions=dtypes[spec.precision])
        torch_tensorrt.save(compiled, str(folder / "model.ep"), inputs=[example])
        return Converted(compiled, lambda clips: clips, lambda out: out.float(), compiled)
