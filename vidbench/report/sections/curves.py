"""Accuracy while training: validation top-1 at each evaluation, against epochs and training compute."""

from __future__ import annotations

from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Figures

PLOTS = "curves"
NOTE = ("Top-1 on the validation split at each evaluation (train.eval_every), against the epoch and against "
        "the training compute spent so far (2 × the training step's GMACs per clip under the run's "
        "protocol × clips seen, in PFLOPs): which backbone gets there fastest, and at what cost.")


def build(report):
    return [Figures(PLOTS)] if report.plots_in(PLOTS) else None


SECTION = register(Section(order=70, anchor="curves", title="Accuracy while training", note=NOTE,
                           toc="Accuracy curves", build=build))
