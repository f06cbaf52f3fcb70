"""The checkpoint layouts vidbench reads: for each, the key map (key_maps.py) per model arch, written from
the official model definitions. A map renames (fusing HF VideoMAE's separate q/k/v); nothing else changes.
- `native`: vidbench's own keys, which for the models torchvision builds are torchvision's (its video
  weights, e.g. `r3d_18-b3b3357e.pth`).
- `torchvision-imagenet`: torchvision's 2D ImageNet classifiers (ResNet-18/50, MobileNetV3-Large) as the
  per-frame backbone of TSN, TSM and LRCN; their 1000-way classifier is the head to re-initialise
  (TSN/TSM) or dropped (LRCN, whose RNN starts fresh).
- `pytorchvideo`: PyTorchVideo hub files (`{"model_state": ...}`): x3d_*, slowfast_r50 and i3d_r50 from
  `create_x3d` / `create_slowfast` / `create_resnet` (pytorchvideo/models/*.py). Its X3D lacks one
  BatchNorm vidbench (as PySlowFast) has: it is filled in as an exact identity and reported.
- `mmaction2`: `{"state_dict": ...}` with `backbone.` / `cls_head.` prefixes, for the recognizers whose
  structure vidbench's mirrors (mmaction/models/backbones/{resnet,resnet_tsm,resnet3d,x3d,c3d,
  timesformer,vit_mae}.py): TSN and TSM ResNets, I3D R50, X3D, C3D, TimeSformer (divided space-time)
  and VideoMAE ViTs. Not SlowFast: mmaction2's lateral connections have no BatchNorm/ReLU
  (`lateral_norm=False`), PySlowFast's and vidbench's do. mmaction2's i3d_r50 config also strides
  time in conv1 and pool1 (`conv1_stride_t=2`, `pool1_stride_t=2`); the weights are the same shapes.
- `videomae-official`: MCG-NJU/VideoMAE checkpoints (`{"module": ...}` or `{"model": ...}`): fine-tuned
  ones (modeling_finetune.py), and pre-trained ones (modeling_pretrain.py) read as its
  run_class_finetuning.py reads them: the encoder is the backbone, fc_norm and the head start fresh.
- `timesformer-official`: facebookresearch/TimeSformer checkpoints (timesformer/models/vit.py, under
  `{"model_state": ...}` with the wrapper's `model.` prefix).
- `hf-videomae`, `hf-timesformer`: Hugging Face transformers' `VideoMAEForVideoClassification` (or
  `VideoMAEForPreTraining`, as above) and `TimesformerForVideoClassification`, from `model.safetensors` /
  `pytorch_model.bin`; VideoMAE's q/v biases under their 4.x names (`q_bias`) and their 5.x ones
  (`query.bias`; transformers' conversion_mapping.py).
- `hf-vjepa2`: transformers' `VJEPA2ForVideoClassification` (its predictor dropped: vidbench's V-JEPA 2 has
  none) or `VJEPA2Model` (a pre-trained encoder: the attentive probe starts fresh).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch

from vidbench.errors import RegistryError
from vidbench.models.key_maps import Rule, check_rule

NATIVE = "native"


Fill = Callable[[dict[str, torch.Tensor]], list[str]]  # adds what the source model lacks; returns the keys


@dataclass(frozen=True)
class Layout:
    name: str
    maps: Mapping[str, tuple[Rule, ...]]  # model arch → its rules
    fills: Mapping[str, Fill] = field(default_factory=dict)  # model arch → what to add after renaming
    # model arch → modules such checkpoints lack by nature (an ImageNet CNN has no RNN, a masked-autoencoder
    # encoder no fc_norm): when missing they keep their fresh init, like the head, and are reported so
    fresh: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def identity_shortcut_norms(state: dict[str, torch.Tensor], eps: float = 1e-5) -> list[str]:
    """An identity BatchNorm after every projection shortcut that has none: PyTorchVideo's X3D leaves it
    out where a block keeps its width (`branch1_norm=... if dim_in != dim_out`, models/x3d.py), PySlowFast
    and vidbench always have one. running_var = 1 - eps makes it exactly the identity."""
    added = []
    for key in [k for k in state if re.search(r"\.shortcut\.0\.weight$", k)]:
        norm = key[: -len("0.weight")] + "1."
        if norm + "weight" in state:
            continue
        width = state[key].shape[0]
        values = {"weight": torch.ones(width), "bias": torch.zeros(width), "running_mean": torch.zeros(width),
                  "running_var": torch.full((width,), 1.0 - eps)}
        for name, value in values.items():
            state[norm + name] = value
            added.append(norm + name)
    return added


# -- torchvision's 2D ImageNet classifiers inside TSN / TSM / LRCN ---------------------------------------
_TV_IMAGENET = {
    "tsn": ((r"^(?!fc\.)", "backbone."),),
    "tsm": ((r"^(?!fc\.)", "backbone."), (r"^(backbone\.layer\d+\.\d+\.conv1)\.", r"\1.net.")),
    "lrcn": ((r"^(fc|classifier)\..*", ""), (r"^", "encoder.")),
}

# -- PyTorchVideo: blocks.K are the stem, the stages and the head; res_blocks.N the bottlenecks ------------
_PTV_BOTTLENECK = (
    (r"\.res_blocks\.(\d+)\.branch1_conv\.", r".\1.shortcut.0."),
    (r"\.res_blocks\.(\d+)\.branch1_norm\.", r".\1.shortcut.1."),
    (r"\.res_blocks\.(\d+)\.branch2\.norm_b\.0\.", r".\1.bn_b."),  # X3D: norm_b = (BN, squeeze-excite)
    (r"\.res_blocks\.(\d+)\.branch2\.norm_b\.1\.block\.0\.", r".\1.se.gate.1."),
    (r"\.res_blocks\.(\d+)\.branch2\.norm_b\.1\.block\.2\.", r".\1.se.gate.3."),
    (r"\.res_blocks\.(\d+)\.branch2\.conv_([abc])\.", r".\1.conv_\2."),
    (r"\.res_blocks\.(\d+)\.branch2\.norm_([abc])\.", r".\1.bn_\2."),
)
_PYTORCHVIDEO = {
    "x3d": (
        # create_x3d_stem's Conv2plus1d holds the 1×3×3 convolution as conv_t and the 5×1×1 one as conv_xy.
        (r"^blocks\.0\.conv\.conv_t\.", "stem.0."),
        (r"^blocks\.0\.conv\.conv_xy\.", "stem.1."),
        (r"^blocks\.0\.norm\.", "stem.2."),
        *((rf"^blocks\.{k}\.", f"stages.{k - 1}.") for k in range(1, 5)),
        (r"^blocks\.5\.pool\.pre_conv\.", "head.0."),
        (r"^blocks\.5\.pool\.pre_norm\.", "head.1."),
        (r"^blocks\.5\.pool\.post_conv\.", "head.4."),
        (r"^blocks\.5\.proj\.", "head.8."),
        *_PTV_BOTTLENECK,
    ),
    "slowfast": (
        *((rf"^blocks\.0\.multipathway_blocks\.{p}\.{module}\.", f"{path}_stem.{i}.")
          for p, path in ((0, "slow"), (1, "fast")) for module, i in (("conv", 0), ("norm", 1))),
        (r"^blocks\.(\d)\.multipathway_fusion\.conv_fast_to_slow\.", r"fusions.\1.conv."),
        (r"^blocks\.(\d)\.multipathway_fusion\.norm\.", r"fusions.\1.bn."),
        *((rf"^blocks\.{k}\.multipathway_blocks\.{p}\.", f"{path}_stages.{k - 1}.")
          for k in range(1, 5) for p, path in ((0, "slow"), (1, "fast"))),
        (r"^blocks\.6\.proj\.", "fc."),
        *_PTV_BOTTLENECK,
    ),
    "i3d": (  # blocks.2 is the temporal max-pool after res2: vidbench's stages.1
        (r"^blocks\.0\.conv\.", "stem.0."),
        (r"^blocks\.0\.norm\.", "stem.1."),
        *((rf"^blocks\.{k}\.", f"stages.{k - 1}.") for k in (1, 3, 4, 5)),
        (r"^blocks\.6\.proj\.", "fc."),
        *_PTV_BOTTLENECK,
    ),
}

# -- mmaction2: ConvModule wraps conv + bn as `.conv` / `.bn` --------------------------------------------
_MMA_RESNET2D = (  # mmaction2's ResNet._load_torchvision_checkpoint spells out this correspondence
    (r"^backbone\.conv1\.conv\.", "backbone.conv1."),
    (r"^backbone\.conv1\.bn\.", "backbone.bn1."),
    (r"\.conv1\.conv\.net\.", ".conv1.net."),  # TSM: TemporalShift wraps conv1's convolution
    (r"\.conv(\d)\.conv\.", r".conv\1."),
    (r"\.conv(\d)\.bn\.", r".bn\1."),
    (r"\.downsample\.conv\.", ".downsample.0."),
    (r"\.downsample\.bn\.", ".downsample.1."),
    (r"^cls_head\.fc_cls\.", "fc."),
)
_MMA_BOTTLENECK3D = (
    *((rf"\.conv{n}\.conv\.", f".conv_{x}.") for n, x in ((1, "a"), (2, "b"), (3, "c"))),
    *((rf"\.conv{n}\.bn\.", f".bn_{x}.") for n, x in ((1, "a"), (2, "b"), (3, "c"))),
    (r"\.downsample\.conv\.", ".shortcut.0."),
    (r"\.downsample\.bn\.", ".shortcut.1."),
    (r"\.se_module\.fc1\.", ".se.gate.1."),
    (r"\.se_module\.fc2\.", ".se.gate.3."),
)
_MMA_TIMESFORMER_LAYER = (  # attentions.0: DividedTemporalAttentionWithNorm, .1: …Spatial…, ffns.0: FFNWithNorm
    (r"attentions\.0\.norm\.", "norm_t."),
    (r"attentions\.0\.attn\.in_proj_", "attn_t.qkv."),  # nn.MultiheadAttention: q, k, v stacked like qkv
    (r"attentions\.0\.attn\.out_proj\.", "attn_t.proj."),
    (r"attentions\.0\.temporal_fc\.", "fc_t."),
    (r"attentions\.1\.norm\.", "norm1."),
    (r"attentions\.1\.attn\.in_proj_", "attn.qkv."),
    (r"attentions\.1\.attn\.out_proj\.", "attn.proj."),
    (r"ffns\.0\.norm\.", "norm2."),
    (r"ffns\.0\.layers\.0\.0\.", "mlp.0."),
    (r"ffns\.0\.layers\.1\.", "mlp.2."),
)
_MMACTION2 = {
    "tsn": _MMA_RESNET2D,
    "tsm": _MMA_RESNET2D,
    "i3d": (
        (r"^backbone\.conv1\.conv\.", "stem.0."),
        (r"^backbone\.conv1\.bn\.", "stem.1."),
        *((rf"^backbone\.layer{n}\.", f"stages.{k}.") for n, k in ((1, 0), (2, 2), (3, 3), (4, 4))),
        (r"^cls_head\.fc_cls\.", "fc."),
        *_MMA_BOTTLENECK3D,
    ),
    "x3d": (
        (r"^backbone\.conv1_s\.conv\.", "stem.0."),
        (r"^backbone\.conv1_t\.conv\.", "stem.1."),
        (r"^backbone\.conv1_t\.bn\.", "stem.2."),
        *((rf"^backbone\.layer{n}\.", f"stages.{n - 1}.") for n in range(1, 5)),
        (r"^backbone\.conv5\.conv\.", "head.0."),
        (r"^backbone\.conv5\.bn\.", "head.1."),
        (r"^cls_head\.fc1\.", "head.4."),  # X3DHead's fc1 is a Linear: vidbench's 1×1×1 lin5 conv
        (r"^cls_head\.fc2\.", "head.8."),
        *_MMA_BOTTLENECK3D,
    ),
    "c3d": (  # norm_cfg=None: vidbench's c3d with batch_norm=False
        *((rf"^backbone\.conv{name}\.conv\.", f"features.{i}.")
          for name, i in (("1a", 0), ("2a", 3), ("3a", 6), ("3b", 8), ("4a", 11), ("4b", 13), ("5a", 16), ("5b", 18))),
        (r"^backbone\.fc6\.", "head.1."),
        (r"^backbone\.fc7\.", "head.4."),
        (r"^cls_head\.fc_cls\.", "head.7."),
    ),
    "timesformer": (
        (r"^backbone\.patch_embed\.projection\.", "patch_embed."),
        (r"^backbone\.(cls_token|pos_embed|time_embed)$", r"\1"),
        *((r"^backbone\.transformer_layers\.layers\.(\d+)\." + part, r"blocks.\1." + ours)
          for part, ours in _MMA_TIMESFORMER_LAYER),
        (r"^backbone\.norm\.", "norm."),
        (r"^cls_head\.fc_cls\.", "head."),
    ),
    "videomae": (
        (r"^backbone\.pos_embed$", ""),  # the fixed sine-cosine table, a buffer there: vidbench computes it
        (r"^backbone\.patch_embed\.projection\.", "patch_embed."),
        (r"\.mlp\.layers\.0\.0\.", ".mlp.0."),
        (r"\.mlp\.layers\.1\.", ".mlp.2."),
        (r"^backbone\.", ""),
        (r"^cls_head\.fc_cls\.", "head."),
    ),
}

# -- the official transformer releases and Hugging Face's ports --------------------------------------------
_MLP_FC = ((r"\.mlp\.fc1\.", ".mlp.0."), (r"\.mlp\.fc2\.", ".mlp.2."))
_SSL_DECODER = r"^(decoder\..*|encoder_to_decoder\..*|mask_token)$"  # masked-autoencoder pre-training only
_VIDEOMAE_OFFICIAL = {"videomae": (
    # modeling_pretrain.py's encoder, as run_class_finetuning.py reads it: `encoder.` stripped, its final
    # norm unused (mean pooling + fc_norm), the decoder left out
    (r"^encoder\.norm\..*", ""),
    (r"^encoder\.", ""),
    (_SSL_DECODER, ""),
    (r"^patch_embed\.proj\.", "patch_embed."),
    *_MLP_FC,
)}
_TIMESFORMER_OFFICIAL = {"timesformer": (
    (r"^model\.", ""),  # the TimeSformer wrapper's VisionTransformer attribute
    (r"^patch_embed\.proj\.", "patch_embed."),
    (r"\.temporal_norm1\.", ".norm_t."),
    (r"\.temporal_attn\.", ".attn_t."),
    (r"\.temporal_fc\.", ".fc_t."),
    *_MLP_FC,
)}
_HF_LAYER = (  # the parts of a layer both HF ports name alike
    (r"\.attention\.output\.dense\.", ".attn.proj."),
    (r"\.intermediate\.dense\.", ".mlp.0."),
    (r"\.output\.dense\.", ".mlp.2."),
    (r"\.layernorm_before\.", ".norm1."),
    (r"\.layernorm_after\.", ".norm2."),
    (r"^classifier\.", "head."),
)
_HF_VIDEOMAE = {"videomae": (
    (_SSL_DECODER, ""),  # VideoMAEForPreTraining
    (r"^videomae\.embeddings\.patch_embeddings\.projection\.", "patch_embed."),
    (r"^videomae\.encoder\.layer\.(\d+)\.", r"blocks.\1."),
    (r"\.attention\.attention\.(q_bias|query\.bias)$", ".attn.q_bias"),
    (r"\.attention\.attention\.(v_bias|value\.bias)$", ".attn.v_bias"),
    (r"\.attention\.attention\.query\.weight$", ".attn.qkv.weight|0"),
    (r"\.attention\.attention\.key\.weight$", ".attn.qkv.weight|1"),
    (r"\.attention\.attention\.value\.weight$", ".attn.qkv.weight|2"),
    *_HF_LAYER,
)}
_HF_TIMESFORMER = {"timesformer": (
    (r"^timesformer\.embeddings\.cls_token$", "cls_token"),
    (r"^timesformer\.embeddings\.position_embeddings$", "pos_embed"),
    (r"^timesformer\.embeddings\.time_embeddings$", "time_embed"),
    (r"^timesformer\.embeddings\.patch_embeddings\.projection\.", "patch_embed."),
    (r"^timesformer\.encoder\.layer\.(\d+)\.", r"blocks.\1."),
    (r"\.temporal_layernorm\.", ".norm_t."),
    (r"\.temporal_attention\.attention\.qkv\.", ".attn_t.qkv."),
    (r"\.temporal_attention\.output\.dense\.", ".attn_t.proj."),
    (r"\.temporal_dense\.", ".fc_t."),
    (r"\.attention\.attention\.qkv\.", ".attn.qkv."),
    (r"^timesformer\.layernorm\.", "norm."),
    *_HF_LAYER,
)}

_HF_VJEPA2 = {"vjepa2": (  # VJEPA2ForVideoClassification, or VJEPA2Model (AutoModel: the pre-trained encoder)
    (r"^(vjepa2\.)?predictor\..*", ""),  # the self-supervised predictor: vidbench's model leaves it out
    (r"^encoder\.", "vjepa2.encoder."),
)}

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (
    Layout(NATIVE, {}),
    Layout("torchvision-imagenet", _TV_IMAGENET, fresh={"lrcn": ("rnn",)}),
    Layout("pytorchvideo", _PYTORCHVIDEO, fills={"x3d": identity_shortcut_norms}),
    Layout("mmaction2", _MMACTION2),
    Layout("videomae-official", _VIDEOMAE_OFFICIAL, fresh={"videomae": ("fc_norm",)}),
    Layout("timesformer-official", _TIMESFORMER_OFFICIAL),
    Layout("hf-videomae", _HF_VIDEOMAE, fresh={"videomae": ("fc_norm",)}),
    Layout("hf-timesformer", _HF_TIMESFORMER),
    Layout("hf-vjepa2", _HF_VJEPA2, fresh={"vjepa2": ("pooler",)}),
)}


def parse_weights_map(value: Any) -> str | tuple[Rule, ...]:
    """A layout's name, or user rules as (REGEX, REPLACEMENT) pairs that compile; a RegistryError else."""
    if isinstance(value, str):
        if value not in LAYOUTS:
            raise RegistryError(f"weights_map {value!r} is neither a layout ({', '.join(LAYOUTS)}) "
                                "nor a list of [REGEX, REPLACEMENT] rules")
        return value
    if not isinstance(value, (list, tuple)) or not value:
        raise RegistryError("weights_map must be a layout name or a non-empty list of [REGEX, REPLACEMENT] rules")
    rules = []
    for i, rule in enumerate(value):
        if not (isinstance(rule, (list, tuple)) and len(rule) == 2 and all(isinstance(s, str) for s in rule)):
            raise RegistryError(f"weights_map rule {i}: {rule!r} is not a [REGEX, REPLACEMENT] pair of strings")
        if problem := check_rule(*rule):
            raise RegistryError(f"weights_map rule {i} {list(rule)!r}: {problem}")
        rules.append((rule[0], rule[1]))
    return tuple(rules)


@dataclass(frozen=True)
class Candidate:
    """One way to read a checkpoint for a model arch."""

    name: str
    rules: tuple[Rule, ...]
    fill: Fill | None = None
    fresh: tuple[str, ...] = ()


def candidate_maps(arch: str | None, weights_map: Any = None) -> list[Candidate]:
    """The ways to try in order: the one `weights_map` names or gives, else every layout with a map for
    `arch`, the native one first."""
    if weights_map is None:
        names = [name for name, layout in LAYOUTS.items() if name == NATIVE or arch in layout.maps]
    else:
        parsed = parse_weights_map(weights_map)
        if not isinstance(parsed, str):
            return [Candidate("weights_map", parsed)]
        if parsed != NATIVE and arch not in LAYOUTS[parsed].maps:
            archs = ", ".join(sorted(LAYOUTS[parsed].maps))
            raise RegistryError(f"weights_map {parsed!r} has no key map for {arch or 'these'} models "
                                f"(it maps: {archs})")
        names = [parsed]
    return [Candidate(name, LAYOUTS[name].maps.get(arch, ()), LAYOUTS[name].fills.get(arch),
                      LAYOUTS[name].fresh.get(arch, ())) for name in names]
