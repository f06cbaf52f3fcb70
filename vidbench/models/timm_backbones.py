"""timm as a model source: any of timm's 2D architectures as the per-frame backbone of TSN, TSM or LRCN
(`{name: tsn_timm, args: {backbone: convnext_tiny}}`), as mmaction2's TSN takes timm backbones
(configs/recognition/tsn/custom_backbones/). timm builds the backbone from its own config
(`timm.create_model(name, pretrained=False, num_classes=0)`: nothing is downloaded; `weights:` loads a
checkpoint of the whole video model). timm is imported when such a model is built, never at registration.

- The backbone's pooled features (`num_features` wide) go to the family's head (`fc`), as with torchvision's.
- Stages (for `train.freeze` and `train.layer_decay`) come from timm's own `feature_info`: a stage ends at each
  module timm reports a feature map from (a ResNet's stem and layer1-4, a ViT's blocks, an EfficientNet's
  block groups); what follows the last (a final norm, conv head) trains as the head does.
- TSM shifts channels at the start of each residual branch, so it takes timm backbones made of ResNet blocks
  (timm's `BasicBlock`/`Bottleneck`: resnet*, resnext*, seresnet*, ...) and refuses others with one line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidbench.models.cnn2d import IMAGENET_MEAN, IMAGENET_STD, TORCHVISION_2D_LIMITS, TSM_PAPER, TSN_PAPER, TSM, TSN
from vidbench.models.cnn_rnn import LRCN_PAPER, LRCN
from vidbench.models.published import NO_PUBLISHED
from vidbench.models.registry import Stage, register_model

if TYPE_CHECKING:
    import torch.nn as nn

DEFAULT_BACKBONE = "resnet50"


def check_backbone(args: dict) -> None:
    """A ValueError naming the backbone when timm has no such architecture: refused before any run."""
    import timm

    name = args.get("backbone", DEFAULT_BACKBONE)
    if not isinstance(name, str) or not timm.is_model(name):
        close = timm.list_models(f"*{str(name).split('_')[0]}*")[:5]
        raise ValueError(f"timm has no architecture {name!r}" + (f" (close: {', '.join(close)})" if close else ""))


def timm_backbone(name: str) -> tuple[nn.Module, int]:
    """timm's `name` without its classifier, (N, 3, H, W) → (N, num_features) pooled (the name was checked with
    the model's args, `check_backbone`, before any build)."""
    import timm

    try:  # a ViT-family backbone takes any clip size, its position embedding resampled (as vidbench's ViTs do)
        net = timm.create_model(name, pretrained=False, num_classes=0, dynamic_img_size=True)
    except TypeError:  # a convolutional one takes any size as it is
        net = timm.create_model(name, pretrained=False, num_classes=0)
    return net, int(net.num_features)


def _units(net: nn.Module, features: list[str]) -> list[str]:
    """The backbone's top-level children in order, a container expanded where timm reports features from inside
    it (a ViT's `blocks.0`, `blocks.1`, ...)."""
    units = []
    for name, child in net.named_children():
        inner = [f for f in features if f.startswith(f"{name}.")]
        units += [f"{name}.{n}" for n, _ in child.named_children()] if inner else [name]
    return units


def feature_stages(prefix: str, then: tuple[Stage, ...] = ()):
    """A stages function for the timm backbone at `prefix`: a stage ends at each module of its `feature_info`;
    `then`: the stages after the backbone (LRCN's recurrent layers)."""
    def stages(model: nn.Module) -> list[Stage]:
        net = model.get_submodule(prefix)
        features = [info["module"] for info in net.feature_info]
        out, current = [], []
        for unit in _units(net, features):
            if any(True for _ in net.get_submodule(unit).parameters()):
                current.append(f"{prefix}.{unit}")
            if unit in features and current:
                out.append(tuple(current))
                current = []
        return [*out, *then]
    return stages


def _residual_blocks(net: nn.Module) -> list[nn.Module]:
    from timm.models.resnet import BasicBlock, Bottleneck

    return [m for m in net.modules() if isinstance(m, (BasicBlock, Bottleneck))]


_COMMON = dict(default_input=(8, 224), mean=IMAGENET_MEAN, std=IMAGENET_STD, limits=TORCHVISION_2D_LIMITS,
               head="fc", check=check_backbone)


@register_model(family="cnn", arch="tsn_timm", paper=TSN_PAPER, stages=feature_stages("backbone"),
                no_published=NO_PUBLISHED["tsn_timm"], **_COMMON)
def tsn_timm(num_classes: int = 400, backbone: str = DEFAULT_BACKBONE, dropout: float = 0.5,
             consensus: str = "avg"):
    """TSN over any timm 2D backbone: per-frame features and classifier, average (or max) consensus."""
    net, features = timm_backbone(backbone)
    return TSN(net, features, num_classes, dropout, consensus)


@register_model(family="cnn", arch="tsm_timm", paper=TSM_PAPER, stages=feature_stages("backbone"),
                no_published=NO_PUBLISHED["tsm_timm"], **_COMMON)
def tsm_timm(num_classes: int = 400, backbone: str = DEFAULT_BACKBONE, dropout: float = 0.5,
             consensus: str = "avg", shift_div: int = 8):
    """TSM over a timm ResNet-family backbone: residual shift of 1/shift_div channels each way in every block."""
    net, features = timm_backbone(backbone)
    blocks = _residual_blocks(net)
    if not blocks:
        raise ValueError(f"tsm_timm shifts channels inside ResNet blocks; timm's {backbone!r} has none "
                         "(use a resnet*, resnext* or seresnet* backbone, or tsn_timm)")
    return TSM(net, features, num_classes, dropout, consensus, shift_div, blocks=blocks)


@register_model(family="cnn_rnn", arch="lrcn_timm", paper=LRCN_PAPER, stages=feature_stages("encoder", then=(("rnn",),)),
                no_published=NO_PUBLISHED["lrcn_timm"], **_COMMON)
def lrcn_timm(num_classes: int = 400, backbone: str = DEFAULT_BACKBONE, hidden: int = 256, rnn: str = "lstm",
              layers: int = 1, bidirectional: bool = False, pooling: str = "last"):
    """A timm 2D backbone's pooled features per frame, then an LSTM (or GRU) over time."""
    net, features = timm_backbone(backbone)
    return LRCN(net, features, num_classes, hidden=hidden, rnn=rnn, layers=layers, bidirectional=bidirectional,
                pooling=pooling)
