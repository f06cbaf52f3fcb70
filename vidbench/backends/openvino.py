"""OpenVINO on the CPU: the model exported by torch.export (a dynamic batch; exporting refuses what tracing
would silently bake in, such as control flow on data), converted by `openvino.convert_model`, saved as
IR (xml + bin, fp32 weights: the artifact), compiled for the CPU with the run's thread count, the latency
hint and the run's precision as the inference precision (fp32 explicitly: OpenVINO's CPU default is bf16
where the CPU has it; bf16 only where it does, since OpenVINO would silently run fp32 elsewhere), and
called through one infer request."""

from __future__ import annotations

from pathlib import Path

from vidbench.backends.base import Shapes
from vidbench.backends.exported import Converted, ExportedBackend, numpy_input, tensor_output
from vidbench.backends.registry import register_backend


@register_backend
class OpenVinoBackend(ExportedBackend):
    name = "openvino"
    packages = ("openvino",)
    precisions = ("fp32", "bf16")
    HINTS = {"fp32": "f32", "bf16": "bf16"}
    loads = ("openvino", "torch.export")

    def unavailable(self, spec=None) -> str | None:
        missing = super().unavailable(spec)
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
        compiled = ov.Core().compile_model(ir, "CPU", {"INFERENCE_NUM_THREADS": torch.get_num_threads(),
                                                       "INFERENCE_PRECISION_HINT": self.HINTS[spec.precision],
                                                       "PERFORMANCE_HINT": "LATENCY"})
        request = compiled.create_infer_request()

        def call(array):
            request.infer({0: array}, share_inputs=True)
            return request.get_output_tensor(0).data

        return Converted(call, numpy_input, lambda array: tensor_output(array.copy()), compiled)
