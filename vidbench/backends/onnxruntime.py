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
    precisions = ("fp32", "int8")

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
        options = _session_options()
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
        return _cpu_converted(session)

    def quantize(self, source: Path, target: Path, calibration, spec, shapes: Shapes) -> tuple[Converted, dict]:
        """ONNX Runtime's static quantization: shape inference and graph optimisation first (its
        `quant_pre_process`, as its documentation asks), then QDQ with signed int8 activations and
        per-channel int8 weights (S8S8, its recommended first choice on x86), ranges calibrated on the
        training clips by the configured method."""
        import onnx
        import onnxruntime as ort
        from onnxruntime.quantization import CalibrationMethod, QuantFormat, quantize_static
        from onnxruntime.quantization.shape_inference import quant_pre_process

        methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                   "percentile": CalibrationMethod.Percentile}
        prepared, quantized = source / "model.pre.onnx", target / "model.onnx"
        quant_pre_process(str(source / "model.onnx"), str(prepared))
        name = onnx.load(str(prepared), load_external_data=False).graph.input[0].name
        quantize_static(str(prepared), str(quantized), _Reader(name, calibration.clips()),
                        quant_format=QuantFormat.QDQ, per_channel=True, calibrate_method=methods[calibration.method])
        session = ort.InferenceSession(str(quantized), _session_options(), providers=["CPUExecutionProvider"])
        return _cpu_converted(session), {"float_ops": float_onnx_ops(quantized)}


COMPUTE_OPS = ("Conv", "ConvTranspose", "MatMul", "Gemm")


def float_onnx_ops(path: Path) -> dict:
    """The compute operations (convolutions, matrix products) a QDQ model still runs in float: those whose
    activation input does not come through a DequantizeLinear."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    dequantized = {out for node in graph.node if node.op_type == "DequantizeLinear" for out in node.output}
    compute = [node for node in graph.node if node.op_type in COMPUTE_OPS]
    left = [node.name or node.op_type for node in compute if node.input[0] not in dequantized]
    return {"quantized": len(compute) - len(left), "float": len(left), "names": left[:20]}


class _Reader:
    """ONNX Runtime's CalibrationDataReader protocol (`get_next`, None at the end) over the calibration clips."""

    def __init__(self, name: str, clips):
        self.name, self.clips = name, iter(clips)

    def get_next(self):
        clip = next(self.clips, None)
        return None if clip is None else {self.name: clip.numpy()}


def _session_options():
    """The run's intra-op thread count, one inter-op thread (as every runtime is timed)."""
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    return options


def _cpu_converted(session) -> Converted:
    name = session.get_inputs()[0].name
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
