"""Each model's stages, in input-to-output order: what `train.freeze: N` freezes (the first N) and what
`train.layer_decay` scales (a stage k of n gets decay^(n - k)). Declared per architecture, since the
natural unit differs: a ResNet's stem and layer1-4, a ViT's embedding and each block, X3D's stem and its
stages. A stage is a tuple of parameter-name prefixes; parameters outside every stage (the head, a final
norm) always train at the base learning rate.
"""

from __future__ import annotations

from typing import Callable

import torch.nn as nn

Stage = tuple[str, ...]


def _children(module: nn.Module, prefix: str) -> list[Stage]:
    """One stage per child of the container at `prefix` that holds parameters."""
    container = module.get_submodule(prefix)
    return [(f"{prefix}.{name}",) for name, child in container.named_children()
            if any(True for _ in child.parameters())]


def _resnet(prefix: str = "") -> Callable[[nn.Module], list[Stage]]:
    """torchvision-style ResNets: stem (everything before layer1), then layer1-4."""
    def stages(model: nn.Module) -> list[Stage]:
        root = model.get_submodule(prefix) if prefix else model
        dot = f"{prefix}." if prefix else ""
        stem = tuple(f"{dot}{name}" for name, child in root.named_children()
                     if not name.startswith("layer") and name != "fc" and any(True for _ in child.parameters()))
        return [stem, *((f"{dot}layer{i}",) for i in range(1, 5))]
    return stages


def _tiny_backbone(model: nn.Module) -> list[Stage]:
    """The tiny per-frame presets: each part of their backbone that holds parameters (the parts of its
    only conv stack, when it has one)."""
    parts = _children(model, "backbone")
    return _children(model, parts[0][0]) if len(parts) == 1 else parts


def _pooled_blocks(prefix: str) -> Callable[[nn.Module], list[Stage]]:
    """Plain conv stacks (C3D, S3D features): a stage ends at each pooling layer."""
    def stages(model: nn.Module) -> list[Stage]:
        out, current = [], []
        for name, child in model.get_submodule(prefix).named_children():
            if any(True for _ in child.parameters()):
                current.append(f"{prefix}.{name}")
            if "Pool" in type(child).__name__ and current:
                out.append(tuple(current))
                current = []
        return out + ([tuple(current)] if current else [])
    return stages


def _stem_and(container: str) -> Callable[[nn.Module], list[Stage]]:
    """I3D and X3D: the stem, then each stage of their `stages` container."""
    return lambda model: [("stem",), *_children(model, container)]


def _slowfast(model: nn.Module) -> list[Stage]:
    """Both pathways' stems, then per depth both pathways' stage and the fusion into it."""
    depth = len(model.slow_stages)
    return [("slow_stem", "fast_stem"),
            *((f"slow_stages.{i}", f"fast_stages.{i}", f"fusions.{i}") for i in range(depth))]


def _vit(blocks: str, embedding: Stage) -> Callable[[nn.Module], list[Stage]]:
    """ViT-style transformers: the embedding (patches, positions, class token), then each block."""
    return lambda model: [embedding, *_children(model, blocks)]


def _vivit(model: nn.Module) -> list[Stage]:
    """Factorised ViViT: the embedding, the spatial encoder's blocks (then its norm), then the temporal
    encoder's class token, positions and blocks."""
    embedding = ("patch_embed", "spatial.cls_token", "spatial.pos_embed")
    temporal = _children(model, "temporal.blocks")
    temporal[0] = ("spatial.norm", "temporal.cls_token", "temporal.pos_embed", *temporal[0])
    return [embedding, *_children(model, "spatial.blocks"), *temporal]


def _lrcn(model: nn.Module) -> list[Stage]:
    """The per-frame encoder's stages (a ResNet's stem and layers, else its layers), then the RNN."""
    encoder = model.encoder
    if any(name.startswith("layer") for name, _ in encoder.named_children()):
        frames = _resnet("encoder")(model)
    elif hasattr(encoder, "features"):
        frames = _children(model, "encoder.features")
    else:
        frames = _children(model, "encoder")
    return [*frames, ("rnn",)]


_BY_ARCH: dict[str, Callable[[nn.Module], list[Stage]]] = {
    **{arch: _resnet() for arch in ("r3d", "mc2", "mc3", "mc4", "mc5", "rmc2", "rmc3", "rmc4", "rmc5", "r2d",
                                     "r2plus1d")},
    "c3d": _pooled_blocks("features"),
    "s3d": _pooled_blocks("features"),
    "i3d": _stem_and("stages"),
    "x3d": _stem_and("stages"),
    "slowfast": _slowfast,
    "lrcn": _lrcn,
    "convlstm": lambda model: [("encoder",), ("cells",)],
    "timesformer": _vit("blocks", ("patch_embed", "pos_embed", "time_embed", "cls_token")),
    "videomae": _vit("blocks", ("patch_embed", "pos_embed")),
    "mvit": _vit("blocks", ("conv_proj", "pos_encoding")),
    "swin3d": lambda model: [("patch_embed",), *_children(model, "features")],
    "vivit": _vivit,
}


def model_stages(arch: str, model: nn.Module) -> list[Stage]:
    """The stages of a built model of architecture `arch`, each a tuple of parameter-name prefixes that
    name at least one parameter. Raises KeyError for an architecture that declares none."""
    if arch in ("tsn", "tsm"):
        declared = _resnet("backbone")(model) if hasattr(model.backbone, "layer1") else _tiny_backbone(model)
    else:
        declared = _BY_ARCH[arch](model)
    names = [n for n, _ in model.named_parameters()]
    out = []
    for stage in declared:
        present = tuple(p for p in stage if any(n == p or n.startswith(p + ".") for n in names))
        if present:
            out.append(present)
    return out


def in_stage(name: str, stage: Stage) -> bool:
    return any(name == p or name.startswith(p + ".") for p in stage)
