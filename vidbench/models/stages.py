"""Models' stages, in input-to-output order: what `train.freeze: N` freezes (the first N) and what
`train.layer_decay` scales (a stage k of n gets decay^(n - k)). Each model declares its own at
registration (`register_model(stages=...)`), usually with one of the helpers here, since the natural
unit differs: a ResNet's stem and layer1-4, a ViT's embedding and each block, X3D's stem and its stages.
A stage is a tuple of parameter-name prefixes; parameters outside every stage (the head, a final norm)
always train at the base learning rate. Imports no torch: the helpers walk a built model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from vidbench.errors import RegistryError
from vidbench.models.registry import Stage, StagesFn, list_models, model_info

if TYPE_CHECKING:
    import torch.nn as nn


def children(module: nn.Module, prefix: str) -> list[Stage]:
    """One stage per child of the container at `prefix` that holds parameters."""
    container = module.get_submodule(prefix)
    return [(f"{prefix}.{name}",) for name, child in container.named_children()
            if any(True for _ in child.parameters())]


def resnet(prefix: str = "") -> Callable[[nn.Module], list[Stage]]:
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
    parts = children(model, "backbone")
    return children(model, parts[0][0]) if len(parts) == 1 else parts


def pooled_blocks(prefix: str) -> Callable[[nn.Module], list[Stage]]:
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


def stem_and(container: str) -> Callable[[nn.Module], list[Stage]]:
    """I3D and X3D: the stem, then each stage of their `stages` container."""
    return lambda model: [("stem",), *children(model, container)]


def slowfast(model: nn.Module) -> list[Stage]:
    """Both pathways' stems, then per depth both pathways' stage and the fusion into it."""
    depth = len(model.slow_stages)
    return [("slow_stem", "fast_stem"),
            *((f"slow_stages.{i}", f"fast_stages.{i}", f"fusions.{i}") for i in range(depth))]


def vit(blocks: str, embedding: Stage) -> Callable[[nn.Module], list[Stage]]:
    """ViT-style transformers: the embedding (patches, positions, class token), then each block."""
    return lambda model: [embedding, *children(model, blocks)]


def vivit(model: nn.Module) -> list[Stage]:
    """Factorised ViViT: the embedding, the spatial encoder's blocks (then its norm), then the temporal
    encoder's class token, positions and blocks."""
    embedding = ("patch_embed", "spatial.cls_token", "spatial.pos_embed")
    temporal = children(model, "temporal.blocks")
    temporal[0] = ("spatial.norm", "temporal.cls_token", "temporal.pos_embed", *temporal[0])
    return [embedding, *children(model, "spatial.blocks"), *temporal]


def lrcn(model: nn.Module) -> list[Stage]:
    """The per-frame encoder's stages (a ResNet's stem and layers, else its layers), then the RNN."""
    encoder = model.encoder
    if any(name.startswith("layer") for name, _ in encoder.named_children()):
        frames = resnet("encoder")(model)
    elif hasattr(encoder, "features"):
        frames = children(model, "encoder.features")
    else:
        frames = children(model, "encoder")
    return [*frames, ("rnn",)]


def tsn(model: nn.Module) -> list[Stage]:
    """TSN and TSM: their per-frame backbone's ResNet stages, or the tiny presets' parts."""
    return resnet("backbone")(model) if hasattr(model.backbone, "layer1") else _tiny_backbone(model)


def convlstm(model: nn.Module) -> list[Stage]:
    """The per-frame conv encoder, then the ConvLSTM cells."""
    return [("encoder",), ("cells",)]


def swin3d(model: nn.Module) -> list[Stage]:
    """Video Swin: the patch embedding, then each part of its `features` (stages and patch mergings)."""
    return [("patch_embed",), *children(model, "features")]


def declared_stages(model_name: str) -> StagesFn | None:
    """What the model declared at registration; for one that declared none, what a registered model of the
    same arch declares (a plugin variant of a built-in architecture); None when neither did."""
    info = model_info(model_name)
    if info.stages is not None:
        return info.stages
    return next((other.stages for other in map(model_info, list_models())
                 if other.arch == info.arch and other.stages is not None), None)


def acts_on_stages(train: dict[str, Any]) -> bool:
    """Whether a train block acts on the model's stages (`partial`, or a layer-wise decay)."""
    return train.get("protocol", "full") == "partial" or float(train.get("layer_decay") or 1.0) != 1.0


def no_stages_reason(model_name: str) -> str | None:
    """Why a protocol acting on stages cannot apply to the model (it declares none), or None."""
    if declared_stages(model_name) is None:
        return (f"model {model_name!r} declares no stages (register_model(stages=...)): train.freeze and "
                "train.layer_decay need them")
    return None


def model_stages(model_name: str, model: nn.Module) -> list[Stage]:
    """The stages the registered model `model_name` declares, for its built `model`: each a tuple of
    parameter-name prefixes that name at least one parameter. A RegistryError when it declares none."""
    declare = declared_stages(model_name)
    if declare is None:
        raise RegistryError(no_stages_reason(model_name))
    names = [n for n, _ in model.named_parameters()]
    out = []
    for stage in declare(model):
        present = tuple(p for p in stage if any(n == p or n.startswith(p + ".") for n in names))
        if present:
            out.append(present)
    return out


def in_stage(name: str, stage: Stage) -> bool:
    return any(name == p or name.startswith(p + ".") for p in stage)
