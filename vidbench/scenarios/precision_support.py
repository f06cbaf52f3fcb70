"""Whether a reduced precision is native here: an eager (or compiled) bf16/fp16 run on a CPU whose flags show
no native unit for it (AVX-512 BF16 or AMX for bf16, AVX-512 FP16 or AMX-FP16 for fp16) runs PyTorch's
emulation, often many times slower than fp32. The run is marked `emulated` (its timed figures carry the mark
in the terminal and the reports) with the CPU's precision features in its detail; it still runs, its timing
loops bounded by the timeout (`measure/timing.py`)."""

from __future__ import annotations

from vidbench import devices
from vidbench.devices import NATIVE
from vidbench.scenarios.base import Scenario, register_scenario

PYTORCH_KERNELS = ("eager", "inductor", "export")  # the runtimes whose kernels are PyTorch's own


@register_scenario
class PrecisionSupport(Scenario):
    name = "precision_support"
    order = 5  # before anything is timed

    def applies(self, ctx) -> bool:
        return ctx.spec.runtime in PYTORCH_KERNELS and ctx.ops.precision_support(ctx.spec.precision) is not None

    def run(self, ctx) -> None:
        support = ctx.ops.precision_support(ctx.spec.precision)
        ctx.detail["precision_support"] = {"precision": ctx.spec.precision, "support": support,
                                           "cpu_features": list(devices.cpu_precision_features() or ()),
                                           "native_needs": list(NATIVE[ctx.spec.precision])}
        if support == "emulated":
            ctx.put("emulated", True)
