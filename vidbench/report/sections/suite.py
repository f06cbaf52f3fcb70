"""Suite and units: the suite's description in full, the suite file the runs were made from (as the store holds
it) and how the figures are counted. At the end: the report opens with its answer, not with its set-up."""

from __future__ import annotations

from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Code, Note

UNIT_NOTE = ("GMACs are multiply-accumulates of one clip at batch 1 (what torchvision and most papers call "
             "\"GFLOPs\"); GFLOPs = 2 × GMACs. Latency is one forward pass of a batch (ms); throughput is clips/s; "
             "peak memory is MiB held by tensors (CUDA allocator peak on a GPU, live-tensor peak on the CPU).")


def build(report):
    blocks = [Note(report.description)] if report.description else []
    blocks += [Code(report.run.suite_yaml, "yaml")] if report.run.suite_yaml else []
    return [*blocks, Note(UNIT_NOTE)]


SECTION = register(Section(order=130, anchor="suite", title="Suite and units", toc="Suite", build=build))
