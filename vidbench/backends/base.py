"""The backend seam: what the runner needs from an execution backend, and nothing about how it is done.

The runner orchestrates a run (which measurements, in which order, on freshly seeded models); a backend
turns a built eager model into a `Prepared` one: the call for a batch (`forward`), the figures preparing it
measured (export time, artifact, parity), the eager reference it must reproduce, and the synchronisation
that bounds every timed interval. `train_step` gives one optimisation step and `peak_memory` the memory
probe. `unsupported` refuses a combination at admission, before any run, with a one-line reason. A backend
is told the shapes it must serve (`Shapes`) rather than reading dataset or train keys.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    import torch

    from vidbench.suite.spec import RunSpec


class RuntimeUnsupported(Exception):
    """The runtime cannot take this model (its converter refused it): the run is `unsupported`, a finding."""


def one_line(error: BaseException) -> str:
    """A converter's or compiler's refusal as one stored line: its class and the first line of its message."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}"[:500]


@dataclass(frozen=True)
class Shapes:
    """The batches a prepared model must serve: `batch`, the run's (what a runtime tunes for), up to
    `largest` (one video's views, a validation batch)."""

    batch: int
    largest: int

    @classmethod
    def of(cls, spec: "RunSpec") -> "Shapes":
        """The run's batch alone (1 while `batch_sizes: auto` searches it)."""
        batch = spec.batch_size if isinstance(spec.batch_size, int) else 1
        return cls(batch, batch)


@dataclass(eq=False)
class Prepared:
    """A model as its backend runs it, with everything the runner needs from it: the call for a batch, the
    figures measured while preparing, the eager reference it must reproduce (None: it is eager), and the
    synchronisation that bounds its timings."""

    backend: "Backend"
    spec: "RunSpec"
    model: Any  # the module, compiled module or converted model the backend calls
    shapes: Shapes
    figures: dict[str, float] = field(default_factory=dict)
    reference: Callable[[Any], Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # how it was prepared (an int8 run's calibration)
    unquantized: Any = None  # an int8 run's fp32 model under the same runtime (its top-1 is the delta's base)

    def forward(self, clips: "torch.Tensor") -> Callable[[], Any]:
        """One inference batch of `clips`, in the run's precision (timed as it is)."""
        return self.backend.forward(self.model, clips, self.spec)

    def after_first_call(self, seconds: float) -> dict[str, float]:
        """Figures known once the first call ran (`seconds` long): a compiler's time and parity."""
        return self.backend.after_first_call(self, seconds)

    def peak_memory(self, fn: Callable[[], object], resident: Iterable["torch.Tensor"]) -> int | None:
        return self.backend.peak_memory(fn, self.spec, resident)

    def sync(self) -> None:
        self.backend.sync(self.spec)

    def eval(self) -> "Prepared":
        self.model.eval()
        return self


class Backend(ABC):
    name: str
    trains = True  # False: training runs in `trainer` (eager PyTorch) and only inference here
    precisions: tuple[str, ...] = ("fp32", "bf16", "fp16")  # PyTorch's own, through autocast

    def precision_refusal(self, spec: "RunSpec") -> str | None:
        """Why this backend does not run the spec's precision, or None."""
        from vidbench.axes import QUANTIZED

        if spec.precision in self.precisions:
            return None
        if spec.precision == QUANTIZED:
            return (f"int8 is post-training quantization by the onnxruntime or openvino runtime, not the "
                    f"{self.name} runtime's (it runs {', '.join(self.precisions)})")
        return f"the {self.name} runtime runs {', '.join(self.precisions)} here, not {spec.precision}"

    @property
    def trainer(self) -> "Backend":
        """The backend that trains an accuracy run's model: this one, where it trains."""
        return self

    def unavailable(self, spec: "RunSpec | None" = None) -> str | None:
        """Why this backend cannot run `spec` on this machine (a package not installed, a device's provider
        missing), or None: its runs are `skipped` with the reason, as runs on an absent device are."""
        return None

    def after_first_call(self, prepared: Prepared, seconds: float) -> dict[str, float]:
        """Figures measured once the first call (`seconds`) ran: a compiler's time and its parity with the
        uncompiled module; a converting backend measures its figures while preparing instead."""
        return {}

    def load(self) -> None:
        """Import what the backend runs on (before a run's memory baseline): nothing beyond torch here."""

    def compile_refusal(self, error: BaseException, spec: "RunSpec") -> RuntimeUnsupported | None:
        """The first call's error as the runtime's refusal of the model (its compiler could not take it: the
        run is `unsupported`), or None when it is the run's failure."""
        return None

    def unsupported(self, spec: "RunSpec") -> str | None:
        """Why this backend cannot execute `spec` (a precision or device it does not serve), or None.
        Called at expansion for every run; must not import torch or build anything."""
        return self.precision_refusal(spec)

    @abstractmethod
    def prepare(self, model: "torch.nn.Module", spec: "RunSpec", shapes: Shapes | None = None) -> Prepared:
        """The model as this backend runs it (on the spec's device, in its memory format), serving `shapes`
        (the run's batch alone when not given)."""

    @abstractmethod
    def forward(self, model: Any, clips: "torch.Tensor", spec: "RunSpec") -> Callable[[], Any]:
        """A call running one inference batch of `clips` through `model` (a `Prepared.model`) in the spec's
        precision (timed as it is)."""

    @abstractmethod
    def train_step(self, model: "torch.nn.Module", optimizer: "torch.optim.Optimizer",
                   spec: "RunSpec") -> Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]:
        """forward + backward + optimizer step on one batch; returns the loss."""

    @abstractmethod
    def peak_memory(self, fn: Callable[[], object], spec: "RunSpec",
                    resident: Iterable["torch.Tensor"]) -> int | None:
        """Peak bytes held while `fn` runs, the `resident` tensors (weights, inputs, optimizer state)
        included; None where the backend's memory is invisible to PyTorch."""

    def sync(self, spec: "RunSpec") -> None:
        """Wait until the device has finished the work queued so far (the device's own synchronisation)."""
        from vidbench.devices import device_ops

        device_ops(spec.device).synchronize()
