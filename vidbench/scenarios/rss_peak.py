"""Memory on a device without allocator counters (the CPU): the worker process's resident peak, taken last,
after every measurement of the run."""

from __future__ import annotations

from vidbench.measure.rss import rss_peak_mib
from vidbench.scenarios.base import Scenario, register_scenario


@register_scenario
class ResidentPeak(Scenario):
    name = "rss_peak"
    order = 80
    serves = frozenset({"memory"})

    def applies(self, ctx) -> bool:
        return super().applies(ctx) and not ctx.ops.has_allocator_peak

    def run(self, ctx) -> None:
        ctx.put("rss_peak_mb", rss_peak_mib())
