"""A model source in one file: three sizes of one network registered from a config table, each with its
stages (what `train.freeze` freezes) and its published results or the reason it has none. A suite names
this file under `plugins:`; tests/models/test_model_source.py loads it so."""

import torch.nn as nn

from vidbench.models import Published, register_table


class Stack(nn.Module):
    """A stem, one 3D convolution block per extra width, global pooling, a linear head."""

    def __init__(self, num_classes: int, widths: tuple[int, ...]):
        super().__init__()
        self.stem = nn.Conv3d(3, widths[0], 3, padding=1)
        self.blocks = nn.Sequential(*(nn.Sequential(nn.Conv3d(a, b, 3, padding=1), nn.BatchNorm3d(b), nn.ReLU())
                                      for a, b in zip(widths, widths[1:])))
        self.pool = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten())
        self.head = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        return self.head(self.pool(self.blocks(self.stem(x))))


def build(num_classes: int = 400, widths: tuple[int, ...] = (4, 8)) -> Stack:
    return Stack(num_classes, tuple(widths))


def stack_stages(model: Stack) -> list[tuple[str, ...]]:
    return [("stem",), *((f"blocks.{i}",) for i in range(len(model.blocks)))]


def _row(top1: float, frames: int) -> Published:
    return Published("Kinetics-400", top1, None, frames, 16, 1, 1, "none (from scratch)",
                     f"an imagined zoo, table 1, {frames}-frame row")


CONFIGS = [
    {"name": "source_stack_s", "config": {"widths": (4, 8)}, "published": (_row(40.0, 4),)},
    {"name": "source_stack_m", "config": {"widths": (4, 8, 8)}, "published": (_row(45.0, 4), _row(47.5, 8))},
    {"name": "source_stack_l", "config": {"widths": (4, 8, 8, 16)}, "default_input": (8, 16),
     "no_published": "the imagined zoo releases no L model"},
]

NAMES = register_table(CONFIGS, builder=build, family="cnn", arch="source_stack", default_input=(4, 16),
                       head="head", stages=stack_stages)
