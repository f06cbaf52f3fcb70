"""The backend seam: what the runner needs from an execution backend, and nothing about how it is done.

The runner orchestrates a run (which measurements, in which order, on freshly seeded models); a backend
turns a built eager model into something that runs: `prepare` converts it (compiles, exports),
`forward` gives the timed inference call, `train_step` one optimisation step, `peak_memory` the memory
probe and `sync` the device synchronisation that bounds every timed interval. `unsupported` refuses a
combination at expansion, before any run, with a one-line reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
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


class Backend(ABC):
    name: str
    trains = True  # False: training runs in `trainer` (eager PyTorch) and only inference here

    @property
    def trainer(self) -> "Backend":
        """The backend that trains an accuracy run's model: this one, where it trains."""
        return self

    def unavailable(self, spec: "RunSpec | None" = None) -> str | None:
        """Why this backend cannot run `spec` on this machine (a package not installed, a device's provider
        missing), or None: its runs are `skipped` with the reason, as runs on an absent device are."""
        return None

    def parity(self, prepared: Any, spec: "RunSpec") -> dict[str, float]:
        """Parity figures measured after the first call (a compiled model against itself uncompiled); a
        converting backend measures them while preparing instead."""
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
        return None

    @abstractmethod
    def prepare(self, model: "torch.nn.Module", spec: "RunSpec") -> Any:
        """The model as this backend runs it (on the spec's device, in its memory format)."""

    @abstractmethod
    def forward(self, prepared: Any, clips: "torch.Tensor", spec: "RunSpec") -> Callable[[], Any]:
        """A call running one inference batch of `clips` in the spec's precision (timed as it is)."""

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
