"""3D CNNs: C3D, torchvision's video ResNets and S3D under their own names, and the convolution-type
study of "A Closer Look" (R2D, MCx, rMCx) on torchvision's VideoResNet."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import torch
import torch.nn as nn

from vidbench.models import stages
from vidbench.models.blocks import torchvision_model
from vidbench.models.published import PUBLISHED
from vidbench.models.registry import InputLimits, register_model

if TYPE_CHECKING:
    from torchvision.models.video.resnet import VideoResNet

C3D_PAPER = "Tran et al., Learning Spatiotemporal Features with 3D Convolutional Networks, ICCV 2015"
CLOSER_LOOK_PAPER = "Tran et al., A Closer Look at Spatiotemporal Convolutions for Action Recognition, CVPR 2018"
S3D_PAPER = ("Xie et al., Rethinking Spatiotemporal Feature Learning: Speed-Accuracy Trade-offs in Video "
             "Classification, ECCV 2018")


class C3D(nn.Module):
    """VGG-style 3D network of 3×3×3 convolutions; pool1 keeps time, later pools halve it.

    `stages` lists the widths of the convolutions in each stage, e.g. ((64,), (128,), (256, 256)).
    `pool_last` pools after the last stage too (the paper's pool5); `pool_output` is the grid the
    features are averaged to before the classifier ((1, 4, 4) keeps C3D's 8192-wide fc6 at any input);
    `hidden` are the widths of the fully connected layers before the classifier (fc6, fc7).
    """

    def __init__(self, stages: tuple[tuple[int, ...], ...], num_classes: int, hidden: tuple[int, ...] = (),
                 dropout: float = 0.0, batch_norm: bool = True, pool_last: bool = False,
                 pool_output: tuple[int, int, int] = (1, 1, 1)):
        super().__init__()
        layers, cin = [], 3
        for i, widths in enumerate(stages):
            for w in widths:
                layers.append(nn.Conv3d(cin, w, 3, padding=1))
                if batch_norm:
                    layers.append(nn.BatchNorm3d(w))
                layers.append(nn.ReLU(inplace=True))
                cin = w
            if pool_last or i < len(stages) - 1:
                kernel = (1, 2, 2) if i == 0 else (2, 2, 2)
                # ceil_mode, as in the Caffe original: 7 → 4 at pool5, and a 1-frame clip survives.
                layers.append(nn.MaxPool3d(kernel, kernel, ceil_mode=True))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d(pool_output)
        head: list[nn.Module] = [nn.Flatten()]
        cin *= pool_output[0] * pool_output[1] * pool_output[2]
        for h in hidden:
            head += [nn.Linear(cin, h), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            cin = h
        head.append(nn.Linear(cin, num_classes))
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.features(x)))


@register_model(family="cnn", arch="c3d", default_input=(8, 32), paper=C3D_PAPER,
                limits=InputLimits(min_size=8, min_frames=4), head="head.1",
                stages=stages.pooled_blocks("features"))
def c3d_tiny(num_classes: int = 400, width: int = 16):
    """Four stages (w, 2w, 4w, 4w) of 3×3×3 convolutions, global pooling, linear classifier."""
    return C3D(((width,), (2 * width,), (4 * width,), (4 * width,)), num_classes)


@register_model(family="cnn", arch="c3d", default_input=(16, 112), paper=C3D_PAPER,
                limits=InputLimits(min_size=16), head="head.7", stages=stages.pooled_blocks("features"),
                published=PUBLISHED["c3d"])
def c3d(num_classes: int = 400, width: int = 64, hidden: int = 4096, dropout: float = 0.5,
        batch_norm: bool = False):
    """The full C3D: 8 convolutions (w, 2w, 4w, 4w, 8w, 8w, 8w, 8w), 5 max-pools, fc6/fc7, classifier.

    At the paper's 16×112×112 clip pool5 leaves 512×1×4×4 = 8192 features for fc6, exactly as in the
    paper; at other clip sizes an adaptive average pool brings pool5's output to that 1×4×4 grid (it is
    the identity at 16×112×112), so resolution and clip-length sweeps work. `batch_norm=True` adds
    BatchNorm after every convolution (not in the paper; helps training from scratch).
    """
    w = width
    stages = ((w,), (2 * w,), (4 * w, 4 * w), (8 * w, 8 * w), (8 * w, 8 * w))
    model = C3D(stages, num_classes, hidden=(hidden, hidden), dropout=dropout, batch_norm=batch_norm,
                pool_last=True, pool_output=(1, 4, 4))
    # Without BatchNorm, torch's default init fades the signal over 10 layers: He init keeps it alive.
    for m in model.modules():
        if isinstance(m, (nn.Conv3d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(m.bias)
    nn.init.normal_(model.head[-1].weight, std=0.01)
    return model


def _torchvision_video(name: str, num_classes: int) -> nn.Module:
    return torchvision_model("torchvision.models.video", name, num_classes=num_classes)


@register_model(family="cnn", arch="r3d", default_input=(16, 112), paper=CLOSER_LOOK_PAPER, head="fc",
                torchvision_weights="R3D_18_Weights", stages=stages.resnet(), published=PUBLISHED["r3d_18"])
def r3d_18(num_classes: int = 400):
    """torchvision's R3D-18: ResNet-18 with full 3D convolutions."""
    return _torchvision_video("r3d_18", num_classes)


@register_model(family="cnn", arch="mc3", default_input=(16, 112), paper=CLOSER_LOOK_PAPER, head="fc",
                torchvision_weights="MC3_18_Weights", stages=stages.resnet(), published=PUBLISHED["mc3_18"])
def mc3_18(num_classes: int = 400):
    """torchvision's MC3-18: 3D convolutions in the first stage, 2D (1×3×3) after."""
    return _torchvision_video("mc3_18", num_classes)


@register_model(family="cnn", arch="r2plus1d", default_input=(16, 112), paper=CLOSER_LOOK_PAPER, head="fc",
                torchvision_weights="R2Plus1D_18_Weights", stages=stages.resnet(),
                published=PUBLISHED["r2plus1d_18"])
def r2plus1d_18(num_classes: int = 400):
    """torchvision's R(2+1)D-18: each 3D convolution factorised into spatial then temporal."""
    return _torchvision_video("r2plus1d_18", num_classes)


# torchvision's S3D ends in AvgPool3d((2, 7, 7), stride 1) over the last feature map (stride 8 in time,
# 32 in space), then its 1×1×1 classifier and a mean, so as built it takes no clip below its weights'
# `min_temporal_size` × `min_size` (14 × 224). At 16×224² that map is exactly 2×7×7: the pool is a
# global average, so swapping it for AdaptiveAvgPool3d(1) (the default here, as torchvision's video
# ResNets end) changes nothing there — same parameters, MACs and outputs (a test checks it) — and lets
# the model take the small clips of resolution and clip-length sweeps. adaptive_pool=False keeps the
# module exactly as torchvision builds it.
def _s3d_limits(args: dict) -> InputLimits:
    if args.get("adaptive_pool", True):
        # Time is strided 8×, and the 2×2×2 max-pool before the last blocks needs 2 frames: 5 would do for
        # inference, but torch 2.14's CPU backward of the stem's (7×1×1, stride 2) conv on 5 frames aborts
        # the process (double free), so the limit is 8: the last map then holds at least one frame.
        return InputLimits(min_frames=8, min_size=32)
    return InputLimits(min_frames=14, min_size=224)


@register_model(family="cnn", arch="s3d", default_input=(16, 224), paper=S3D_PAPER, limits=_s3d_limits,
                head="classifier.1", torchvision_weights="S3D_Weights", stages=stages.pooled_blocks("features"),
                published=PUBLISHED["s3d"])
def s3d(num_classes: int = 400, adaptive_pool: bool = True):
    """torchvision's S3D: Inception-v1 with separable (1×3×3 then 3×1×1) convolutions."""
    model = _torchvision_video("s3d", num_classes)
    if adaptive_pool:
        model.avgpool = nn.AdaptiveAvgPool3d(1)
    return model


# ---------------------------------------------------------------------------------------------------
# "A Closer Look": one ResNet, the convolution type chosen per group. The paper's groups are conv1 (the
# stem) and conv2_x … conv5_x (torchvision's layer1 … layer4). Following torchvision's mc3_18: a 3D
# group uses Conv3DSimple (3×3×3, and its first block strides time as well as space), a 2D group uses
# Conv3DNoTemporal (1×3×3, no temporal stride); a 3D stem is BasicStem (3×7×7), a 2D stem 1×7×7.

_CLOSER_LOOK_DEPTHS = {10: [1, 1, 1, 1], 18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}


class Stem2D(nn.Sequential):
    """The conv-batchnorm-relu stem with a 1×7×7 convolution, or — with `frames` > 1 — the paper's R2D
    stem: a frames×7×7 convolution without temporal padding, i.e. a 2D convolution over the clip's
    frames stacked as 3·frames channels, which collapses time at the first layer."""

    def __init__(self, frames: int = 1) -> None:
        super().__init__(
            nn.Conv3d(3, 64, kernel_size=(frames, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(64),
            nn.ReLU(inplace=True),
        )


def _closer_look_resnet(num_classes: int, first_2d: int | None, reversed_: bool = False, depth: int = 18,
                        stem_frames: int = 1) -> VideoResNet:
    """ResNet with 3D convolutions in groups 1 … first_2d−1 and 2D from group `first_2d` on (MCx, with
    x = first_2d); `reversed_` swaps them: 2D below group x, 3D from x on (rMCx). Groups are numbered as
    in the paper: 1 = conv1 (stem), 2 … 5 = conv2_x … conv5_x. first_2d=1: all 2D (R2D); None: all 3D."""
    from torchvision.models.video.resnet import BasicBlock, BasicStem, Conv3DNoTemporal, Conv3DSimple, VideoResNet

    if depth not in _CLOSER_LOOK_DEPTHS:
        raise ValueError(f"depth must be one of {sorted(_CLOSER_LOOK_DEPTHS)}, not {depth!r}")
    if stem_frames < 1:
        raise ValueError(f"stem_frames must be at least 1, not {stem_frames!r}")
    groups_3d = [first_2d is None or g < first_2d for g in range(1, 6)]
    if reversed_:
        groups_3d = [not is_3d for is_3d in groups_3d]
    stem = BasicStem if groups_3d[0] else functools.partial(Stem2D, stem_frames)
    conv_makers = [Conv3DSimple if is_3d else Conv3DNoTemporal for is_3d in groups_3d[1:]]
    return VideoResNet(block=BasicBlock, conv_makers=conv_makers, layers=_CLOSER_LOOK_DEPTHS[depth], stem=stem,
                       num_classes=num_classes)


_CLOSER_LOOK_LIMITS = InputLimits(min_size=16)  # spatial stride 16: the last map is at least 1×1


@register_model(family="cnn", arch="r2d", default_input=(16, 112), paper=CLOSER_LOOK_PAPER,
                limits=lambda args: InputLimits(min_size=16, min_frames=args.get("stem_frames", 1)), head="fc",
                stages=stages.resnet(), published=PUBLISHED["r2d_18"])
def r2d_18(num_classes: int = 400, depth: int = 18, stem_frames: int = 1):
    """R2D-18: 2D convolutions only (1×7×7 stem, 1×3×3 everywhere, no temporal stride).

    With the default stem_frames=1 every frame is convolved alone and only the final global pool mixes
    time (the paper's f-R2D). stem_frames=L makes the stem an L×7×7 convolution without temporal
    padding: on an L-frame clip that is the paper's R2D (the clip's 3L channels fused at the first layer).
    """
    return _closer_look_resnet(num_classes, first_2d=1, depth=depth, stem_frames=stem_frames)


def _register_mixed(x: int, reversed_: bool):
    kind = "rmc" if reversed_ else "mc"
    name = f"{kind}{x}_18"
    if reversed_:
        doc = f"rMC{x}-18: 2D (1×3×3) convolutions below group {x}, 3D (3×3×3) from group {x} (conv{x}_x) on."
    else:
        doc = f"MC{x}-18: 3D (3×3×3) convolutions below group {x}, 2D (1×3×3) from group {x} (conv{x}_x) on."

    def builder(num_classes: int = 400, depth: int = 18):
        return _closer_look_resnet(num_classes, first_2d=x, reversed_=reversed_, depth=depth)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = doc
    register_model(builder, family="cnn", arch=f"{kind}{x}", default_input=(16, 112), paper=CLOSER_LOOK_PAPER,
                   limits=_CLOSER_LOOK_LIMITS, head="fc", stages=stages.resnet(), published=PUBLISHED[name])
    return builder


# mc3_18 stays torchvision's own (above); the shared builder makes the same network (a test checks it).
mc2_18 = _register_mixed(2, reversed_=False)
mc4_18 = _register_mixed(4, reversed_=False)
mc5_18 = _register_mixed(5, reversed_=False)
rmc2_18 = _register_mixed(2, reversed_=True)
rmc3_18 = _register_mixed(3, reversed_=True)
rmc4_18 = _register_mixed(4, reversed_=True)
rmc5_18 = _register_mixed(5, reversed_=True)
