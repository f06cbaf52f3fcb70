"""What every deployment runtime shares: the model is converted once (timed apart from the timings:
`export_s`), the artifact's size is kept (`artifact_mb`), and the converted model is checked against eager
PyTorch on the same clips before anything is timed (`parity_max_abs`, `parity_top1_agree`).

A runtime only says how to convert (`convert`) and how its input and output look (`native`, `output`);
the measurement methodology (warm-up, repeats, medians, the run's threads) stays the runner's, the same
for every runtime. The traced batch is dynamic, so one conversion serves every batch a run uses (its
batch, one video's views, the validation batches). Training is eager PyTorch's business: an accuracy run
trains in eager and is evaluated through the runtime (`trainer`).

A model the converter or the runtime cannot take is a finding, not a crash: `RuntimeUnsupported` carries
the converter's one-line reason and the run is stored as `unsupported`.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from abc import abstractmethod
from pathlib import Path
from typing import Any, Callable, Iterable

from vidbench.axes import QUANTIZED
from vidbench.backends.base import Backend, Prepared, RuntimeUnsupported, Shapes, one_line
from vidbench.backends.eager import EagerBackend
from vidbench.backends.parity import TRACE_BATCH, check_parity, eager_call, parity_clips

MIB = 2**20
EAGER = EagerBackend()  # trains an accuracy run's model, which is then converted and validated here


class Converted:
    """A converted model, called like the module it came from (a torch tensor in, a torch tensor out). `call`
    takes the runtime's own input (`backend.native(clips)`); `native` and `output` convert either side."""

    def __init__(self, call: Callable[[Any], Any], native: Callable[[Any], Any], output: Callable[[Any], Any],
                 handle: Any = None):
        self.call, self.native, self.output, self.handle = call, native, output, handle

    def __call__(self, clips):
        return self.output(self.call(self.native(clips)))

    def eval(self) -> "Converted":
        return self

    def train(self, mode: bool = True) -> "Converted":
        return self


class ExportedBackend(Backend):
    """A runtime that runs a converted model. Subclasses name their packages, devices and precisions and
    implement `convert`."""

    packages: tuple[str, ...] = ()  # what must be installed
    loads: tuple[str, ...] = ()  # what a run imports (loaded before its memory baseline)
    install = "install vidbench[deploy]"
    devices: tuple[str, ...] = ("cpu",)
    precisions: tuple[str, ...] = ("fp32",)
    quantizes_on: tuple[str, ...] = ("cpu",)  # where an int8 run is calibrated and run
    trains = False

    @property
    def trainer(self) -> Backend:
        return EAGER

    @abstractmethod
    def convert(self, model, example, folder: Path, spec, shapes: Shapes) -> Converted:
        """Convert `model` (eval mode, on the run's device) traced on `example`, for batches up to
        `shapes.largest`, writing the artifact under `folder`; raise anything on refusal."""

    def missing_package(self) -> str | None:
        for name in self.packages:
            if importlib.util.find_spec(name) is None:
                return name
        return None

    def unavailable(self, spec=None) -> str | None:
        missing = self.missing_package()
        if missing:
            return f"the {self.name} runtime needs {missing}, which is not installed: {self.install}"
        return None

    def load(self) -> None:
        for name in self.loads:
            importlib.import_module(name)

    def unsupported(self, spec) -> str | None:
        device = spec.device.split(":")[0]
        if device not in self.devices:
            return f"the {self.name} runtime runs on {' or '.join(self.devices)}, not on {spec.device}"
        refusal = self.precision_refusal(spec)
        if refusal:
            return refusal
        if spec.precision == QUANTIZED and device not in self.quantizes_on:
            return f"int8 is calibrated and run on the CPU here, not on {spec.device}"
        if spec.compile:
            return f"compile (torch.compile) applies to eager PyTorch, not to the {self.name} runtime"
        if spec.channels_last:
            return f"channels_last is eager PyTorch's memory format; the {self.name} runtime lays out its own"
        if spec.batch_size == "auto":
            return f"batch_sizes: auto searches eager PyTorch's memory; give the {self.name} runtime a batch size"
        if "train_throughput" in spec.metrics:
            return (f"train_throughput is eager PyTorch's (training runs there); the {self.name} runtime "
                    "measures inference, and evaluates an accuracy run's trained model")
        return None

    def quantize(self, source: Path, target: Path, calibration, spec, shapes: Shapes) -> tuple[Converted, dict]:
        """The fp32 artifact under `source` quantized to int8 (static, per-channel weights) calibrated on
        `calibration` (a CalibrationSet), written under `target`; with what it left in float."""
        raise NotImplementedError(f"the {self.name} runtime does not quantize")

    def prepare(self, model, spec, shapes: Shapes | None = None, calibration=None) -> Prepared:
        """Convert (timed apart: export_s), measure the artifact, quantize an int8 run (calibration_s; the
        int8 artifact is the one measured), and check parity with eager on seeded clips, in batches of the
        run's size."""
        import torch

        from vidbench import phase

        phase.report(f"converting to {self.name}")
        shapes = shapes or Shapes.of(spec)
        model = model.to(torch.device(spec.device)).eval()
        clips = parity_clips(spec, shapes.batch)
        folder = Path(tempfile.mkdtemp(prefix=f"vidbench-{self.name}-"))
        unquantized, detail = None, {}
        try:
            converted, figures = self._converted(model, clips, folder, spec, shapes)
            if spec.precision == QUANTIZED:
                unquantized, fp32_mb = converted, figures["artifact_mb"]
                converted, quantized, detail = self._quantized(folder, clips, spec, shapes, calibration)
                figures.update(quantized)
                detail["artifact_fp32_mb"] = fp32_mb
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        # what the converted model must reproduce: eager PyTorch (in eval mode) on the same clips, in the
        # run's precision (autocast; fp32, and int8's float side, is eager as it is), as reduced-precision
        # kernels should
        reference = eager_call(model, spec)
        figures.update(check_parity(reference, converted, clips, shapes.batch))
        return Prepared(self, spec, converted, shapes, figures, reference, detail, unquantized)

    def _converted(self, model, clips, folder: Path, spec, shapes: Shapes) -> tuple[Converted, dict[str, float]]:
        """The fp32 conversion, timed (a runtime that builds lazily refuses at its first call, still inside)."""
        started = time.perf_counter()
        try:
            converted = self.convert(model, clips[:TRACE_BATCH], folder, spec, shapes)
            converted(clips[:1])
        except Exception as e:  # the converter's or the runtime's refusal is the finding
            raise RuntimeUnsupported(one_line(e)) from None
        return converted, {"export_s": time.perf_counter() - started, "artifact_mb": folder_mib(folder)}

    def _quantized(self, folder: Path, clips, spec, shapes: Shapes, calibration) -> tuple[Converted, dict, dict]:
        """The int8 model calibrated on the training clips, timed apart (calibration_s), its artifact alone."""
        from vidbench import phase

        if calibration is None:
            raise ValueError("an int8 run is calibrated on clips of its training split, and none were given")
        phase.report(f"calibrating int8 on {len(calibration.indices)} training clips")
        target = folder / "int8"
        target.mkdir()
        started = time.perf_counter()
        try:
            quantized, detail = self.quantize(folder, target, calibration, spec, shapes)
            quantized(clips[:1])
        except Exception as e:  # the quantizer's refusal is a finding too
            raise RuntimeUnsupported(f"int8: {one_line(e)}") from None
        figures = {"calibration_s": time.perf_counter() - started, "artifact_mb": folder_mib(target)}
        return quantized, figures, {"calibration": calibration.describe(), **detail}

    def forward(self, model: Converted, clips, spec) -> Callable[[], Any]:
        import torch

        native = model.native(clips)

        def forward():
            with torch.no_grad():  # a torch-based runtime's fallback ops record no autograd graph
                return model.call(native)

        return forward

    def train_step(self, model, optimizer, spec):
        raise RuntimeUnsupported(f"training under the {self.name} runtime is not measured")

    def peak_memory(self, fn: Callable[[], object], spec, resident: Iterable) -> int | None:
        """Tensors inside a runtime are invisible to PyTorch's counters: none (the process's RSS
        high-water is measured for every runtime alike)."""
        return None


def folder_mib(folder: Path) -> float:
    """The size of the files under `folder` (recursively), in MiB."""
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / MIB


def numpy_input(clips):
    return clips.detach().cpu().numpy()


def tensor_output(array):
    import torch

    return torch.from_numpy(array)
