"""int8: per model and runtime, the int8 speed-up over fp32 against its top-1 drop, and per model the fastest
runtime-precision pair within the drop bound (the view is `vidbench.report.int8`, shared with its plot). It
leads the report of a suite whose runs are all under a quantizing runtime: there it is the answer."""

from __future__ import annotations

from vidbench.axes import QUANTIZED
from vidbench.report import int8 as view
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Figures, Table


def build(report):
    if report.int8 is None:
        return None
    return [Table(report.int8.picks, view.PICK_COLUMNS, id="int8-picks",
                  title=f"The fastest runtime and precision within {view.DROP_BOUND:g} point of fp32 top-1"),
            Figures(view.SECTION),
            Table(report.int8.pairs, view.PAIR_COLUMNS, id="int8-pairs", title="int8 against fp32, per runtime")]


def a_quantization_suite(report) -> bool:
    """Every run of the report is fp32 or int8 under a runtime that quantizes, and some are int8."""
    frame = report.frame
    return (report.int8 is not None and frame["runtime"].isin(("onnxruntime", "openvino")).all()
            and (frame["precision"] == QUANTIZED).any())


SECTION = register(Section(order=32, anchor="int8", title="int8: speed against accuracy", note=view.NOTE,
                           toc="int8", build=build, leads=a_quantization_suite))
