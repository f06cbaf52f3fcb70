"""Whether a prepared model still gives eager PyTorch's answers: the eager reference call, the parity
figures (`parity_max_abs`, `parity_top1_agree`) and the check that collects them batch by batch. Shared by
the compiling backend (Inductor against its uncompiled module) and the converting ones (the artifact
against eager), so neither needs the other."""

from __future__ import annotations

from typing import Any, Callable

PARITY_CLIPS = 8  # seeded clips compared with eager when the run does not validate on its own data
TRACE_BATCH = 2  # torch.export specialises a batch of 1 to a constant: trace with 2, keep the batch dynamic


def eager_call(module, spec) -> Callable[[Any], Any]:
    """`module` called as a run's inference calls it: no autograd, autocast in the run's precision (fp32:
    the module as it is). What a compiled or converted model must reproduce."""
    import torch

    from vidbench.measure.precision import autocast

    device = torch.device(spec.device)

    def call(clips):
        with torch.no_grad(), autocast(device, spec.precision):
            return module(clips)

    return call


def parity(reference, candidate) -> dict[str, float]:
    """How far the candidate's logits are from the reference's on the same clips: the largest absolute
    difference, and the percentage of clips whose top-1 class agrees."""
    import numpy as np

    reference, candidate = np.asarray(reference, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
    agree = (reference.argmax(axis=1) == candidate.argmax(axis=1)).mean() * 100
    return {"parity_max_abs": float(np.abs(reference - candidate).max()), "parity_top1_agree": float(agree)}


class ParityCheck:
    """Runs the reference (eager, on the same clips, in eval mode) and the candidate side by side on every
    batch it is given (the validation clips of an accuracy run), answers with the candidate's logits and
    keeps the parity."""

    def __init__(self, reference: Callable[[Any], Any], candidate: Callable[[Any], Any]):
        self.reference, self.candidate = reference, candidate
        self.references: list = []
        self.candidates: list = []

    def __call__(self, clips):
        import torch

        with torch.no_grad():
            self.references.append(self.reference(clips).detach().float().cpu())
            out = self.candidate(clips)
        self.candidates.append(out.detach().float().cpu())
        return out

    def eval(self) -> "ParityCheck":
        return self

    def figures(self) -> dict[str, float]:
        import torch

        return parity(torch.cat(self.references).numpy(), torch.cat(self.candidates).numpy())


def parity_clips(spec, batch: int):
    """Seeded clips on the run's device: at least PARITY_CLIPS, a whole number of the run's batches (and
    at least TRACE_BATCH), so a compiled model sees no new batch shape."""
    import torch

    n = max(-(-PARITY_CLIPS // batch) * batch, TRACE_BATCH)
    g = torch.Generator().manual_seed(spec.seed)
    return torch.randn(n, 3, spec.clip_length, *spec.resolution, generator=g).to(spec.device)


def check_parity(reference, candidate, clips, batch: int) -> dict[str, float]:
    """Parity of `candidate` with `reference` over `clips`, in batches of `batch` (the run's size)."""
    check = ParityCheck(reference, candidate)
    for start in range(0, len(clips), batch):
        check(clips[start:start + batch])
    return check.figures()
