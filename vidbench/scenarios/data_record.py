"""What every run records after its measurements: the data it read (unreadable videos passed over, and
where real videos came from: decoder, files)."""

from __future__ import annotations

from vidbench.data.video import data_detail, skipped_videos
from vidbench.scenarios.base import Scenario, register_scenario


@register_scenario
class DataRecord(Scenario):
    name = "data_record"
    order = 70

    def applies(self, ctx) -> bool:
        return True

    def run(self, ctx) -> None:
        skipped = skipped_videos(ctx.data)
        if skipped is not None:
            ctx.put("skipped_videos", skipped)
        detail = data_detail(ctx.data)
        if detail:
            ctx.detail["data"] = detail
