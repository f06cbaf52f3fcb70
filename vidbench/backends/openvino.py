"""OpenVINO on the CPU: the model exported by torch.export (a dynamic batch; exporting refuses what tracing
would silently bake in, such as control flow on data), converted by `openvino.convert_model`, saved as
IR (xml + bin, fp32 weights: the artifact), compiled for the CPU with the run's thread count, fp32
inference (no bf16 hint, which OpenVINO applies by default on CPUs that have it) and the latency hint, and
called through one infer request."""

from __future__ import annotations

from pathlib import Path

from vidbench.backends.exported import Converted, ExportedBackend, numpy_input, tensor_output


class OpenVinoBackend(ExportedBackend):
    name = "openvino"
    packages = ("openvino",)
    loads = ("openvino", "torch.export")

    def convert(self, model, example, folder: Path, spec) -> Converted:
        import openvino as ov
        import torch
        from torch.export import Dim

        program = torch.export.export(model, (example,), dynamic_shapes=({0: Dim("batch")},))
        ir = ov.convert_model(program, input=[ov.PartialShape([-1, *example.shape[1:]])])
        ov.save_model(ir, str(folder / "model.xml"), compress_to_fp16=False)
        compiled = ov.Core().compile_model(ir, "CPU", {"INFERENCE_NUM_THREADS": torch.get_num_threads(),
                                                       "INFERENCE_PRECISION_HINT": "f32",
                                                       "PERFORMANCE_HINT": "LATENCY"})
        request = compiled.create_infer_request()

        def call(array):
            request.infer({0: array}, share_inputs=True)
            return request.get_output_tensor(0).data

        return Converted(call, numpy_input, lambda array: tensor_output(array.copy()), compiled)
