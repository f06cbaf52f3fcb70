"""The input pipeline alone: clips per second of decoding and transforms at the run's batch."""

from __future__ import annotations

from vidbench.data.loader import measure_data_throughput
from vidbench.scenarios.base import Scenario, register_scenario


@register_scenario
class DataPipeline(Scenario):
    name = "data_pipeline"
    order = 50
    serves = frozenset({"data_throughput"})

    def run(self, ctx) -> None:
        ctx.put("data_throughput_clips_s", measure_data_throughput(ctx.data.train, ctx.batch_size,
                                                                   seed=ctx.spec.seed, device=ctx.spec.device))
