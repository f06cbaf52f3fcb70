"""TensorRT on CUDA through torch-tensorrt (its dynamo front end): the model compiled into TensorRT
engines for a batch range (1 up to the largest batch the run uses), in the run's precision (fp32, or
fp16/bf16 kernels enabled), saved as an exported program (the artifact). Parity is checked against
eager PyTorch in the same precision (autocast), on the same clips. Not part of `deploy`: torch-tensorrt
is GPU-only (`pip install torch-tensorrt`), exercised by scripts/gpu_check.py."""

from __future__ import annotations

from pathlib import Path

from vidbench.backends.exported import Converted, ExportedBackend

MAX_BATCH = 64  # the engines' largest batch at least; more when the run's batch, views or validation batch is


class TensorRtBackend(ExportedBackend):
    name = "tensorrt"
    packages = ("torch_tensorrt",)
    loads = ("torch_tensorrt",)
    install = "pip install torch-tensorrt (GPU only)"
    devices = ("cuda",)
    precisions = ("fp32", "fp16", "bf16")

    def convert(self, model, example, folder: Path, spec) -> Converted:
        import torch
        import torch_tensorrt

        dtypes = {"fp32": {torch.float32}, "fp16": {torch.float32, torch.float16},
                  "bf16": {torch.float32, torch.bfloat16}}
        shape = tuple(example.shape[1:])
        views = int(spec.dataset_args.get("test_clips", 1)) * int(spec.dataset_args.get("test_crops", 1))
        top = max(MAX_BATCH, int(spec.batch_size), views, int(spec.train.get("batch_size", 1)))
        spec_input = torch_tensorrt.Input(min_shape=(1, *shape), opt_shape=(int(spec.batch_size), *shape),
                                          max_shape=(top, *shape), dtype=torch.float32)
        compiled = torch_tensorrt.compile(model, ir="dynamo", inputs=[spec_input],
                                          enabled_precisions=dtypes[spec.precision])
        torch_tensorrt.save(compiled, str(folder / "model.ep"), inputs=[example])
        return Converted(compiled, lambda clips: clips, lambda out: out.float(), compiled)
