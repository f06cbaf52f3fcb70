"""ONNX Runtime: the model exported with `torch.onnx.export(dynamo=True)` (a dynamic batch), run by an
`InferenceSession` with the run's thread count: the CPU execution provider, or CUDA's where the installed
onnxruntime has it. On CUDA the input is bound where the tensor already is (an IO binding), the provider
computes on PyTorch's current stream (so it reads the input after PyTorch wrote it, and the timing's
synchronisation covers it), and the logits are copied back into a CUDA tensor."""

from __future__ import annotations

from pathlib import Path

from vidbench.backends.base import Shapes
from vidbench.backends.exported import Converted, ExportedBackend, numpy_input, tensor_output
from vidbench.backends.registry import register_backend


@register_backend
class OnnxRuntimeBackend(ExportedBackend):
    name = "onnxruntime"
    packages = ("onnxruntime", "onnxscript", "onnx")
    loads = ("onnxruntime", "onnxscript", "torch.onnx")
    devices = ("cpu", "cuda")

    def unavailable(self, spec=None) -> str | None:
        from vidbench.devices import is_cuda

        missing = super().unavailable(spec)
        if missing or spec is None or not is_cuda(spec.device):
            return missing
        import onnxruntime as ort

        if "CUDAExecutionProvider" not in ort.get_available_providers():
            return "the installed onnxruntime has no CUDA execution provider: install onnxruntime-gpu"
        return None

    def convert(self, model, example, folder: Path, spec, shapes: Shapes) -> Converted:
        import onnxruntime as ort
        import torch
        from torch.export import Dim

        from vidbench.devices import is_cuda

        path = folder / "model.onnx"
        program = torch.onnx.export(model, (example,), dynamo=True, dynamic_shapes=({0: Dim("batch")},),
                                    verbose=False)
        program.save(str(path))
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        cuda = is_cuda(spec.device)
        providers = [("CUDAExecutionProvider", {
            "device_id": torch.device(spec.device).index or 0,
            "user_compute_stream": str(torch.cuda.current_stream(spec.device).cuda_stream)})] if cuda \
            else ["CPUExecutionProvider"]
        session = ort.InferenceSession(str(path), options, providers=providers)
        name = session.get_inputs()[0].name
        if cuda:
            device = torch.device(spec.device)
            return Converted(_cuda_call(session, name), lambda clips: clips.contiguous(),
                             lambda value: torch.from_numpy(value.numpy()).to(device), session)
        return Converted(lambda array: session.run(None, {name: array})[0], numpy_input, tensor_output, session)


def _cuda_call(session, name):
    """Session.run with the input bound where the tensor already is on the GPU and the output left there."""
    import numpy as np

    output = session.get_outputs()[0].name

    def call(clips):
        binding = session.io_binding()
        binding.bind_input(name, "cuda", clips.device.index or 0, np.float32, tuple(clips.shape), clips.data_ptr())
        binding.bind_output(output, "cuda", clips.device.index or 0)
        session.run_with_iobinding(binding)
        return binding.get_outputs()[0]

    return call
