"""Compilation timed cold: Inductor keeps compiled graphs and kernels in on-disk caches shared by every
process of the user, so a second compilation of the same model can take a fraction of the first. A run
of the inductor or export runtime disables those caches, so `compile_s` and `export_s` are what compiling
the model costs, whatever ran before on the machine."""

from __future__ import annotations


def compile_cold() -> None:
    import torch.compiler

    torch.compiler.config.force_disable_caches = True
