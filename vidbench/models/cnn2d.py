"""2D CNNs applied per frame with temporal consensus: TSN, and TSM (TSN plus a free temporal shift).

The full-size models run torchvision's ImageNet 2D backbones (`weights=None`: nothing is downloaded)
on every frame; a clip's T frames are the segments. Variants share one builder, timm style:
`_create_tsn` does the work and each registered entrypoint only sets hyperparameters.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from vidbench.models import stages
from vidbench.models.blocks import conv_bn_relu2d, frames_to_batch, small_cnn2d, torchvision_model
from vidbench.models.published import NO_PUBLISHED, PUBLISHED
from vidbench.models.registry import InputLimits, register_model

TSN_PAPER = "Wang et al., Temporal Segment Networks, ECCV 2016"
TSM_PAPER = "Lin et al., TSM: Temporal Shift Module for Efficient Video Understanding, ICCV 2019"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# ResNet and MobileNetV3 downsample by 32: below 32 px their last feature map is already 1×1 and
# the network only convolves padding.
TORCHVISION_2D_LIMITS = InputLimits(min_size=32)

# name (torchvision.models' builder) → (attribute holding the ImageNet classifier, pooled feature width)
_TORCHVISION_2D = {
    "resnet18": ("fc", 512),
    "resnet50": ("fc", 2048),
    "mobilenet_v3_large": ("classifier", 960),
    "mobilenet_v3_small": ("classifier", 576),
}


def torchvision_backbone_2d(name: str) -> tuple[nn.Module, int]:
    """A torchvision ImageNet network without its classifier: (N, 3, H, W) → (N, features), pooled.

    For MobileNetV3 the whole classifier goes, its 1280-wide pre-logits layer included, so every
    backbone ends at its globally pooled convolutional features (the ResNet convention).
    """
    try:
        head, features = _TORCHVISION_2D[name]
    except KeyError:
        raise ValueError(f"backbone must be one of {sorted(_TORCHVISION_2D)}, not {name!r}") from None
    net = torchvision_model("torchvision.models", name)
    setattr(net, head, nn.Identity())
    return net, features


class TSN(nn.Module):
    """Temporal Segment Network: one 2D backbone scores every frame; the scores are averaged.

    The consensus ignores frame order, which is exactly what the synthetic-motion dataset exposes.
    """

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int, dropout: float = 0.0,
                 consensus: str = "avg"):
        super().__init__()
        if consensus not in ("avg", "max"):
            raise ValueError(f"consensus must be 'avg' or 'max', not {consensus!r}")
        self.backbone = backbone
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(feature_dim, num_classes)
        self.consensus = consensus

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames, b, t = frames_to_batch(x)
        scores = self.fc(self.dropout(self.backbone(frames))).view(b, t, -1)
        return scores.mean(1) if self.consensus == "avg" else scores.amax(1)


def temporal_shift(x: torch.Tensor, segments: int, shift_div: int = 8) -> torch.Tensor:
    """Shift 1/shift_div of the channels one frame towards the past, the next 1/shift_div one frame
    towards the future, and leave the rest; `x` is (B·T, C, H, W) with T = `segments`. Frames shifted
    in from outside the clip are zeros. Pure data movement: no parameters, no multiply-accumulates.
    """
    bt, c, h, w = x.shape
    x = x.view(bt // segments, segments, c, h, w)
    fold = c // shift_div
    out = torch.zeros_like(x)
    out[:, :-1, :fold] = x[:, 1:, :fold]  # frame t sees frame t+1
    out[:, 1:, fold:2 * fold] = x[:, :-1, fold:2 * fold]  # frame t sees frame t-1
    out[:, :, 2 * fold:] = x[:, :, 2 * fold:]
    return out.view(bt, c, h, w)


class TemporalShift(nn.Module):
    """`net` applied after a temporal shift; TSM wraps the first conv of each residual branch in one.

    The number of segments is the clip length, which only the whole model sees: `TSM.forward` sets
    `segments` on every shift before running the backbone, so any clip length works.
    """

    def __init__(self, net: nn.Module, shift_div: int = 8):
        super().__init__()
        self.net = net
        self.shift_div = shift_div
        self.segments = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(temporal_shift(x, self.segments, self.shift_div))

    def extra_repr(self) -> str:
        return f"shift_div={self.shift_div}"


class TSM(TSN):
    """TSN whose backbone's residual blocks shift channels in time at the start of their residual
    branch ("residual shift": the identity path is left unshifted), as in the TSM paper.
    """

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int, dropout: float = 0.0,
                 consensus: str = "avg", shift_div: int = 8, blocks: list[nn.Module] | None = None):
        super().__init__(backbone, feature_dim, num_classes, dropout, consensus)
        if shift_div < 2:
            raise ValueError(f"shift_div must be at least 2 (1/shift_div of the channels moves each way), "
                             f"not {shift_div!r}")
        from torchvision.models.resnet import BasicBlock, Bottleneck

        if blocks is None:  # another source's residual blocks (timm's) are given; each has a conv1
            blocks = [m for m in backbone.modules() if isinstance(m, (BasicBlock, Bottleneck))]
        if not blocks:
            raise ValueError("TSM needs a backbone of torchvision ResNet blocks (BasicBlock / Bottleneck)")
        for block in blocks:
            block.conv1 = TemporalShift(block.conv1, shift_div)
        self._shifts = tuple(block.conv1 for block in blocks)  # a plain tuple: not registered twice

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for shift in self._shifts:
            shift.segments = x.shape[2]
        return super().forward(x)


def _tiny_resnet(widths: tuple[int, ...]) -> nn.Sequential:
    """A stride-2 stem, then one torchvision BasicBlock per width (stride 2 after the first): a
    residual network small enough to train on a CPU, with blocks TSM knows how to shift."""
    from torchvision.models.resnet import BasicBlock

    layers: list[nn.Module] = [conv_bn_relu2d(3, widths[0], stride=2)]
    cin = widths[0]
    for i, w in enumerate(widths):
        stride = 1 if i == 0 else 2
        down = None
        if stride != 1 or cin != w:
            down = nn.Sequential(nn.Conv2d(cin, w, 1, stride=stride, bias=False), nn.BatchNorm2d(w))
        layers.append(BasicBlock(cin, w, stride, down))
        cin = w
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())


def _create_tsn(backbone: str, num_classes: int, *, shift: bool, dropout: float, consensus: str,
                shift_div: int = 8, width: int = 16) -> TSN:
    """TSN (shift=False) or TSM (shift=True) over a torchvision backbone, or "tiny": a small ResNet."""
    if backbone == "tiny":
        widths = (width, 2 * width, 4 * width, 4 * width)
        net, features = _tiny_resnet(widths), widths[-1]
    else:
        net, features = torchvision_backbone_2d(backbone)
    if shift:
        return TSM(net, features, num_classes, dropout, consensus, shift_div)
    return TSN(net, features, num_classes, dropout, consensus)


def _tsn_small(num_classes: int, widths: tuple[int, ...], dropout: float, consensus: str) -> TSN:
    backbone = nn.Sequential(small_cnn2d(widths), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return TSN(backbone, widths[-1], num_classes, dropout, consensus)


@register_model(family="cnn", arch="tsn", default_input=(8, 32), paper=TSN_PAPER,
                limits=InputLimits(min_size=16), head="fc", stages=stages.tsn)
def tsn_tiny(num_classes: int = 400, width: int = 16, dropout: float = 0.0, consensus: str = "avg"):
    """Four stride-2 conv stages (width, 2w, 4w, 4w), global pooling, per-frame classifier."""
    return _tsn_small(num_classes, (width, 2 * width, 4 * width, 4 * width), dropout, consensus)


@register_model(family="cnn", arch="tsn", default_input=(8, 224), mean=IMAGENET_MEAN, std=IMAGENET_STD,
                limits=TORCHVISION_2D_LIMITS, paper=TSN_PAPER, head="fc",
                torchvision_weights="ResNet18_Weights", stages=stages.tsn, published=PUBLISHED["tsn_resnet18"])
def tsn_resnet18(num_classes: int = 400, dropout: float = 0.5, consensus: str = "avg"):
    """TSN over torchvision's ResNet-18: per-frame backbone and classifier, average consensus."""
    return _create_tsn("resnet18", num_classes, shift=False, dropout=dropout, consensus=consensus)


@register_model(family="cnn", arch="tsn", default_input=(8, 224), mean=IMAGENET_MEAN, std=IMAGENET_STD,
                limits=TORCHVISION_2D_LIMITS, paper=TSN_PAPER, head="fc",
                torchvision_weights="ResNet50_Weights", stages=stages.tsn, published=PUBLISHED["tsn_resnet50"])
def tsn_resnet50(num_classes: int = 400, dropout: float = 0.5, consensus: str = "avg"):
    """TSN over torchvision's ResNet-50: per-frame backbone and classifier, average consensus."""
    return _create_tsn("resnet50", num_classes, shift=False, dropout=dropout, consensus=consensus)


@register_model(family="cnn", arch="tsm", default_input=(8, 32), paper=TSM_PAPER,
                limits=InputLimits(min_size=16), head="fc", stages=stages.tsn)
def tsm_tiny(num_classes: int = 400, width: int = 16, dropout: float = 0.0, consensus: str = "avg",
             shift_div: int = 8):
    """TSM over a small ResNet: a stride-2 stem and four BasicBlocks (width, 2w, 4w, 4w)."""
    return _create_tsn("tiny", num_classes, shift=True, dropout=dropout, consensus=consensus,
                       shift_div=shift_div, width=width)


@register_model(family="cnn", arch="tsm", default_input=(8, 224), mean=IMAGENET_MEAN, std=IMAGENET_STD,
                limits=TORCHVISION_2D_LIMITS, paper=TSM_PAPER, head="fc",
                torchvision_weights="ResNet18_Weights", stages=stages.tsn, no_published=NO_PUBLISHED["tsm_resnet18"])
def tsm_resnet18(num_classes: int = 400, dropout: float = 0.5, consensus: str = "avg", shift_div: int = 8):
    """TSM over torchvision's ResNet-18: residual shift of 1/8 channels each way in every block."""
    return _create_tsn("resnet18", num_classes, shift=True, dropout=dropout, consensus=consensus,
                       shift_div=shift_div)


@register_model(family="cnn", arch="tsm", default_input=(8, 224), mean=IMAGENET_MEAN, std=IMAGENET_STD,
                limits=TORCHVISION_2D_LIMITS, paper=TSM_PAPER, head="fc",
                torchvision_weights="ResNet50_Weights", stages=stages.tsn, published=PUBLISHED["tsm_resnet50"])
def tsm_resnet50(num_classes: int = 400, dropout: float = 0.5, consensus: str = "avg", shift_div: int = 8):
    """TSM over torchvision's ResNet-50: residual shift of 1/8 channels each way in every block."""
    return _create_tsn("resnet50", num_classes, shift=True, dropout=dropout, consensus=consensus,
                       shift_div=shift_div)
