"""OpenVINO on the CPU: the model exported by torch.export (a dynamic batch; exporting refuses what tracing
would silently bake in, such as control flow on data), converted by `openvino.convert_model`, saved as
IR (xml + bin, fp32 weights: the artifact), compiled for the CPU with the run's thread count, the latency
hint and the run's precision as the inference precision (fp32 explicitly: OpenVINO's CPU default is bf16
where the CPU has it; bf16 only where it does, since OpenVINO would silently run fp32 elsewhere), and
called through one infer request. int8: the IR quantized by NNCF (`backends/nncf_quantize.py`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from vidbench.backends.base import Shapes
from vidbench.backends.exported import Converted, ExportedBackend, numpy_input, tensor_output
from vidbench.backends.registry import register_backend


@register_backend
class OpenVinoBackend(ExportedBackend):
    name = "openvino"
    packages = ("openvino",)
    precisions = ("fp32", "bf16", "int8")
    HINTS = {"fp32": "f32", "bf16": "bf16", "int8": "f32"}  # int8: the float model it is quantized from
    loads = ("openvino", "torch.export")

    def unavailable(self, spec=None) -> str | None:
        missing = super().unavailable(spec)
        if not missing and spec is not None and spec.precision == "int8" and importlib.util.find_spec("nncf") is None:
            return f"the openvino runtime quantizes to int8 with nncf, which is not installed: {self.install}"
        if missing or spec is None or spec.precision != "bf16":
            return missing
        import openvino as ov

        if "BF16" not in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
            return "this CPU has no bf16 for OpenVINO (OPTIMIZATION_CAPABILITIES lacks BF16)"
        return None

    def convert(self, model, example, folder: Path, spec, shapes: Shapes) -> Converted:
        import openvino as ov
        import torch
        from torch.export import Dim

        program = torch.export.export(model, (example,), dynamic_shapes=({0: Dim("batch")},))
        ir = ov.convert_model(program, input=[ov.PartialShape([-1, *example.shape[1:]])])
        ov.save_model(ir, str(folder / "model.xml"), compress_to_fp16=False)
        return _compiled(ir, self.HINTS[spec.precision])

    def quantize(self, source: Path, target: Path, calibration, spec, shapes: Shapes) -> tuple[Converted, dict]:
        """NNCF's post-training quantization of the IR (`nncf.quantize`, its default per-channel int8 weights
        and fast bias correction; min-max or quantile ranges), or with `max_drop` its accuracy control
        (`nncf.quantize_with_accuracy_control`), which returns the operations costing the most top-1 on the
        held-out training clips to float until the drop is within `max_drop` points."""
        import openvino as ov

        from vidbench.backends.nncf_quantize import quantize_ir

        ir, log = quantize_ir(ov.Core().read_model(str(source / "model.xml")), calibration)
        ov.save_model(ir, str(target / "model.xml"), compress_to_fp16=False)
        converted = _compiled(ir, "f32")  # the hint is the precision of what stays in float
        return converted, {"float_ops": float_ir_ops(ir), "kernels": kernels(converted.handle), "quantizer_log": log}


def _compiled(ir, hint: str) -> Converted:
    """The IR compiled for the CPU with the run's threads and the latency hint, called through one request."""
    import openvino as ov
    import torch

    compiled = ov.Core().compile_model(ir, "CPU", {"INFERENCE_NUM_THREADS": torch.get_num_threads(),
                                                   "INFERENCE_PRECISION_HINT": hint,
                                                   "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()

    def call(array):
        request.infer({0: array}, share_inputs=True)
        return request.get_output_tensor(0).data

    return Converted(call, numpy_input, lambda array: tensor_output(array.copy()), compiled)


COMPUTE_OPS = ("Convolution", "GroupConvolution", "ConvolutionBackpropData", "MatMul")


# Operations a quantized tensor passes through unchanged: NNCF puts a FakeQuantize before them (before a
# MaxPool, say), not between them and the convolution they feed
PASS_THROUGH = ("MaxPool", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "StridedSlice", "Concat", "Split",
                "VariadicSplit", "Gather")


def float_ir_ops(ir) -> dict:
    """The compute operations (convolutions, matrix products) NNCF left in float: those whose activation
    input does not come from a FakeQuantize (through pass-through operations). Whether the CPU plugin then
    ran each in int8 is `kernels`' answer."""
    compute = [op for op in ir.get_ordered_ops() if op.get_type_name() in COMPUTE_OPS]
    left = [op.get_friendly_name() for op in compute if not _fake_quantized(op.input_value(0).get_node())]
    return {"quantized": len(compute) - len(left), "float": len(left), "names": left[:20]}


def _fake_quantized(node) -> bool:
    while node.get_type_name() in PASS_THROUGH and node.get_input_size():
        node = node.input_value(0).get_node()
    return node.get_type_name() == "FakeQuantize"


def kernels(compiled) -> dict[str, int]:
    """How many compute layers ran on which CPU kernel (OpenVINO's primitive type names the ISA and the
    precision, e.g. `jit_avx2_I8`, `brgconv_avx512_amx_I8`): whether int8 used VNNI or AMX on this CPU."""
    from collections import Counter

    layers = ("Convolution", "FullyConnected", "MatMul", "GroupConvolution", "Deconvolution")
    found = Counter()
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        if info["layerType"].astype(str) in layers:
            found[info["primitiveType"].astype(str)] += 1
    return dict(found)
