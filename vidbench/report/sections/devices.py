"""Devices: per model and device, median figures and the throughput speed-up over the baseline device."""

from __future__ import annotations

from vidbench.report import analysis
from vidbench.report.sections.base import Section, register
from vidbench.report.sections.blocks import Figures, Table
from vidbench.report.tables import Column

NOTE = ("Speed-up: the median, over runs matched in every other setting, of throughput on the device over "
        "throughput on the baseline device.")
COLUMNS = [Column("variant", "model"), Column("family", "family"), Column("device", "device"),
           Column("runs", "ok runs"), Column("median_throughput_clips_s", "median throughput (clips/s)"),
           Column("median_latency_ms_p50", "median latency p50 (ms)"),
           Column("median_peak_mem_mb", "median peak mem (MiB)"),
           Column("speedup", "throughput × baseline", lambda v: f"{v:.2f}×"),
           Column("matched", "matched runs"), Column("baseline", "baseline")]


def build(report):
    devices = analysis.device_summary(report.frame)
    return [Table(devices, COLUMNS), Figures("devices")] if len(devices) else None


SECTION = register(Section(order=100, anchor="devices", title="Devices", note=NOTE, build=build))
