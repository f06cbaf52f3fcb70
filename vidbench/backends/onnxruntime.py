"""ONNX Runtime: the model exported with `torch.onnx.export(dynamo=True)` (a dynamic batch dimension, so
one export serves every batch the run times), run by an `InferenceSession` on the CPU execution provider
with the run's thread count, and checked against eager PyTorch on the same clips before it is timed.

A model the exporter or the runtime cannot take is a finding, not a crash: `RuntimeUnsupported` carries
the converter's one-line reason and the run is stored as `unsupported`.

This version measures inference (latency, throughput, per-video cost) and parity; training and memory
under ONNX Runtime are refused at expansion.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from vidbench.backends.base import Backend, RuntimeUnsupported

SERVED_METRICS = {"params", "flops", "latency", "throughput"}
MIB = 2**20


class OrtModel:
    """An exported model behind an ONNX Runtime session, called like the module it came from."""

    def __init__(self, session: Any, input_name: str, export_s: float, artifact_mb: float):
        self.session, self.input_name = session, input_name
        self.export_s, self.artifact_mb = export_s, artifact_mb
        self.figures: dict[str, float] = {"export_s": export_s, "artifact_mb": artifact_mb}

    def run(self, array) -> Any:
        return self.session.run(None, {self.input_name: array})[0]

    def __call__(self, clips):
        import torch

        return torch.from_numpy(self.run(clips.detach().cpu().numpy()))

    def eval(self) -> "OrtModel":
        return self

    def train(self, mode: bool = True) -> "OrtModel":
        return self


def parity(reference, candidate) -> dict[str, float]:
    """How far the candidate's logits are from the reference's on the same clips: the largest absolute
    difference, and the percentage of clips whose top-1 class agrees."""
    import numpy as np

    reference, candidate = np.asarray(reference, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    agree = (reference.argmax(axis=1) == candidate.argmax(axis=1)).mean() * 100
    return {"parity_max_abs": float(np.abs(reference - candidate).max()), "parity_top1_agree": float(agree)}


class OnnxRuntimeBackend(Backend):
    name = "onnxruntime"

    def unavailable(self) -> str | None:
        try:
            import onnxruntime  # noqa: F401
            import onnxscript  # noqa: F401
        except ImportError as e:
            return f"ONNX Runtime is not installed ({e.name}): install vidbench[deploy]"
        return None

    def unsupported(self, spec) -> str | None:
        if not spec.device.startswith("cpu"):
            return f"the onnxruntime runtime runs on the CPU here, not on {spec.device}"
        if spec.precision != "fp32":
            return f"the onnxruntime runtime runs the exported fp32 graph, not {spec.precision}"
        if spec.compile:
            return "compile (torch.compile) applies to eager PyTorch, not to the onnxruntime runtime"
        if spec.batch_size == "auto":
            return "batch_sizes: auto searches eager PyTorch's memory; give the onnxruntime runtime a batch size"
        other = sorted(set(spec.metrics) - SERVED_METRICS)
        if other:
            return (f"the onnxruntime runtime measures {', '.join(sorted(SERVED_METRICS))}; not yet "
                    f"{', '.join(other)}")
        return None

    def prepare(self, model, spec) -> OrtModel:
        """Export (timed apart: export_s), open a session, and check parity with eager on seeded clips."""
        import onnxruntime as ort
        import torch
        from torch.export import Dim

        model = model.eval()
        g = torch.Generator().manual_seed(spec.seed)
        clips = torch.randn(int(spec.batch_size), 3, spec.clip_length, *spec.resolution, generator=g)
        folder = Path(tempfile.mkdtemp(prefix="vidbench-onnx-"))
        path = folder / "model.onnx"
        started = time.perf_counter()
        try:
            program = torch.onnx.export(model, (clips,), dynamo=True, dynamic_shapes=({0: Dim("batch")},),
                                        verbose=False)
            program.save(str(path))
            options = ort.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as e:  # the exporter's or the runtime's refusal is the finding
            text = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise RuntimeUnsupported(f"{type(e).__name__}: {text}"[:500]) from None
        export_s = time.perf_counter() - started
        size = sum(f.stat().st_size for f in folder.iterdir()) / MIB  # the graph and any external weights
        prepared = OrtModel(session, session.get_inputs()[0].name, export_s, size)
        with torch.no_grad():
            reference = model(clips).float().numpy()
        prepared.figures.update(parity(reference, prepared.run(clips.numpy())))
        return prepared

    def forward(self, prepared: OrtModel, clips, spec) -> Callable[[], Any]:
        array = clips.detach().cpu().numpy()
        return lambda: prepared.run(array)

    def train_step(self, model, optimizer, spec):
        raise RuntimeUnsupported("training under the onnxruntime runtime is not measured")

    def peak_memory(self, fn: Callable[[], object], spec, resident: Iterable) -> int:
        raise RuntimeUnsupported("memory under the onnxruntime runtime is not measured")

    def sync(self, spec) -> None:
        """Session.run returns when its outputs are computed: nothing is queued."""
