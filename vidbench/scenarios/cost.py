"""Cost: parameters and multiply-accumulates of one clip, counted on the meta device. It also runs where the
device has a known peak, since the MACs give the later achieved TFLOP/s and MFU."""

from __future__ import annotations

from vidbench.measure.flops import profile_model
from vidbench.scenarios.base import Scenario, register_scenario


@register_scenario
class Cost(Scenario):
    name = "cost"
    order = 10
    serves = frozenset({"params", "flops"})

    def applies(self, ctx) -> bool:
        return super().applies(ctx) or ctx.ops.has_peak_tflops

    def run(self, ctx) -> None:
        s = ctx.spec
        ctx.profile = profile_model(s.model, ctx.data.num_classes, s.model_args, s.clip_length, *s.resolution)
        ctx.detail["flops"] = ctx.profile.as_dict()
        if "params" in ctx.wanted:
            ctx.put("params", ctx.profile.params)
        if "flops" in ctx.wanted:
            ctx.put("gmacs", ctx.profile.macs / 1e9)
            ctx.put("gflops", 2 * ctx.profile.macs / 1e9)
            ctx.put("train_gmacs", ctx.profile.train_macs / 1e9)
            ctx.put("views", ctx.views)
            ctx.put("gmacs_per_video", ctx.profile.macs / 1e9 * ctx.views)
