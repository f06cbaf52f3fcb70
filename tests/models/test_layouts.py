"""The checkpoint layouts people hold, each built from its official key names, land every tensor where
it belongs in vidbench's model.

Strongest first: where the official code is installable (Hugging Face transformers always, it is a dev
dependency; PyTorchVideo when present) the reference model is built from its config, its weights are
loaded with `weights:` and the logits must match its own forward pass. Everywhere, a checkpoint written
under the official names must fill every model key with exactly the tensor the official name says: for
PyTorchVideo from the key list its builders produce (data/pytorchvideo_keys.json.gz, written by
`hub.<name>(pretrained=False).state_dict()` for x3d_s, i3d_r50, slowfast_r50), for mmaction2 and the
official VideoMAE / TimeSformer releases from a naming written here, separately from the key maps, after
their model definitions (mmaction/models/backbones/*.py with mmcv's ConvModule / FFN / TransformerLayer
names; MCG-NJU/VideoMAE modeling_finetune.py; facebookresearch/TimeSformer timesformer/models/vit.py).
"""

from __future__ import annotations

import gzip
import json
import re
import warnings
from pathlib import Path
from typing import Callable

import pytest
import torch
import torch.nn as nn

from vidbench.errors import RegistryError
from vidbench.models import create_model, model_info
from vidbench.models.weights import load_report, plan_weights

PYTORCHVIDEO_KEYS = Path(__file__).parent / "data" / "pytorchvideo_keys.json.gz"


def meta(name: str, num_classes: int = 400, **args) -> nn.Module:
    with torch.device("meta"):
        return create_model(name, num_classes=num_classes, **args)


def official_checkpoint(model: nn.Module, official: Callable[[str], str | None]) -> dict[str, torch.Tensor]:
    """The model's tensors (meta: shapes only) under their official names; `official` returns None for a key
    the official model does not have."""
    return {name: t for k, t in model.state_dict().items() if (name := official(k)) is not None}


def assert_lands(model_name: str, own: nn.Module, checkpoint: dict[str, torch.Tensor], expected: dict[str, str],
                 layout: str):
    """Every model key gets exactly the checkpoint tensor `expected` names for it (the same object: meta
    tensors need no values), and the key map picked is `layout`."""
    info = model_info(model_name)
    load, report = plan_weights(own.state_dict(), checkpoint, "ckpt", model_name, info.arch, info.head)
    assert report.layout == layout
    assert report.reinitialised == ()
    assert set(load) == set(expected)
    wrong = [k for k, official in expected.items() if load[k] is not checkpoint[official]
             and load[k].shape == checkpoint[official].shape]  # a reshaped tensor is a new object
    assert not wrong, f"{len(wrong)} keys got another tensor, e.g. {wrong[:3]}"
    return report


# -- PyTorchVideo -------------------------------------------------------------------------------------------
def pytorchvideo_keys(name: str) -> dict[str, torch.Tensor]:
    with gzip.open(PYTORCHVIDEO_KEYS, "rt") as f:
        return {k: torch.empty(shape, device="meta") for k, shape in json.load(f)[name]}


@pytest.mark.parametrize("name, spots", [
    ("x3d_s", {"stem.0.weight": "blocks.0.conv.conv_t.weight", "stem.1.weight": "blocks.0.conv.conv_xy.weight",
               "stages.1.0.se.gate.1.weight": "blocks.2.res_blocks.0.branch2.norm_b.1.block.0.weight",
               "stages.1.0.bn_b.running_var": "blocks.2.res_blocks.0.branch2.norm_b.0.running_var",
               "stages.1.1.bn_b.weight": "blocks.2.res_blocks.1.branch2.norm_b.0.weight",
               "stages.3.0.shortcut.1.bias": "blocks.4.res_blocks.0.branch1_norm.bias",
               "head.1.weight": "blocks.5.pool.pre_norm.weight", "head.4.weight": "blocks.5.pool.post_conv.weight",
               "head.8.weight": "blocks.5.proj.weight"}),
    ("i3d_r50", {"stem.0.weight": "blocks.0.conv.weight", "stages.0.0.shortcut.0.weight":
                 "blocks.1.res_blocks.0.branch1_conv.weight", "stages.2.1.conv_a.weight":
                 "blocks.3.res_blocks.1.branch2.conv_a.weight", "stages.4.2.bn_c.bias":
                 "blocks.5.res_blocks.2.branch2.norm_c.bias", "fc.weight": "blocks.6.proj.weight"}),
    ("slowfast_r50", {"slow_stem.0.weight": "blocks.0.multipathway_blocks.0.conv.weight",
                      "fast_stem.1.weight": "blocks.0.multipathway_blocks.1.norm.weight",
                      "fusions.0.conv.weight": "blocks.0.multipathway_fusion.conv_fast_to_slow.weight",
                      "fusions.3.bn.bias": "blocks.3.multipathway_fusion.norm.bias",
                      "slow_stages.2.0.conv_a.weight":
                          "blocks.3.multipathway_blocks.0.res_blocks.0.branch2.conv_a.weight",
                      "fast_stages.3.2.bn_b.weight":
                          "blocks.4.multipathway_blocks.1.res_blocks.2.branch2.norm_b.weight",
                      "fc.bias": "blocks.6.proj.bias"}),
])
def test_pytorchvideo_checkpoints_fill_every_key(name, spots):
    checkpoint = pytorchvideo_keys(name)
    model = meta(name)
    info = model_info(name)
    load, report = plan_weights(model.state_dict(), checkpoint, "ckpt", name, info.arch, info.head)
    assert report.layout == "pytorchvideo" and report.reinitialised == ()
    by_identity = {id(t): k for k, t in checkpoint.items()}
    sources = [by_identity.get(id(t)) for k, t in load.items() if k not in report.filled]
    assert None not in sources and sorted(sources) == sorted(checkpoint)  # each official tensor used once
    assert all(load[k] is checkpoint[official] for k, official in spots.items())
    # PyTorchVideo's X3D has no BatchNorm after the width-keeping projection of res2's first block.
    assert report.filled == (() if name != "x3d_s" else tuple(
        f"stages.0.0.shortcut.1.{p}" for p in ("weight", "bias", "running_mean", "running_var")))


def test_the_stored_pytorchvideo_key_lists_are_pytorchvideo_s():
    hub = pytest.importorskip("pytorchvideo.models.hub")
    for name in ("x3d_s", "i3d_r50", "slowfast_r50"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            state = getattr(hub, name)(pretrained=False).state_dict()
        stored = pytorchvideo_keys(name)
        assert {k: tuple(v.shape) for k, v in state.items()} == {k: tuple(v.shape) for k, v in stored.items()}


def randomised(model: nn.Module) -> nn.Module:
    """Every float tensor random (running variances positive), so a misplaced one shows in the logits."""
    with torch.no_grad():
        for key, t in model.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.randn_like(t).abs() + 0.5 if "running_var" in key else torch.randn_like(t) * 0.2)
    return model.eval()


@pytest.mark.parametrize("name, builder, kwargs, clip", [
    ("x3d_s", "x3d:create_x3d", dict(input_clip_length=4, input_crop_size=64, head_activation=None), (4, 64)),
    ("i3d_r50", "hub:i3d_r50", dict(pretrained=False, head_pool_kernel_size=(4, 2, 2)), (8, 64)),
    ("slowfast_r50", "hub:slowfast_r50", dict(pretrained=False, head_pool_kernel_sizes=((2, 2, 2), (8, 2, 2))),
     (8, 64)),
])
def test_pytorchvideo_weights_give_pytorchvideo_s_logits(name, builder, kwargs, clip, tmp_path):
    module, function = builder.split(":")
    source = getattr(pytest.importorskip(f"pytorchvideo.models.{module}"), function)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = randomised(source(**kwargs))
    path = tmp_path / "ptv.pyth"
    torch.save({"model_state": reference.state_dict(), "epoch": 3}, path)
    ours = create_model(name, num_classes=400, weights=str(path)).eval()
    assert load_report(ours).layout == "pytorchvideo"
    x = torch.randn(2, 3, clip[0], clip[1], clip[1])
    with torch.no_grad():
        expected = reference([x[:, :, ::4], x] if name == "slowfast_r50" else x)
        assert torch.allclose(ours(x), expected, rtol=1e-4, atol=1e-4 * expected.abs().max().item())


# -- mmaction2 ----------------------------------------------------------------------------------------------
def _conv_module(prefix: str, child: str, rest: str) -> str:
    """mmcv's ConvModule: `.conv` and `.bn` children."""
    return f"{prefix}.{child}.{rest}"


def mmaction2_resnet2d(key: str) -> str:
    """mmaction2 ResNet / ResNetTSM (TSN, TSM) names of a vidbench TSN/TSM key."""
    if key.startswith("fc."):
        return "cls_head.fc_cls." + key[3:]
    parts = key.split(".")[1:]  # without "backbone"
    if parts[0] in ("conv1", "bn1"):
        return _conv_module("backbone.conv1", "conv" if parts[0] == "conv1" else "bn", parts[1])
    layer, block, module, *rest = parts
    base = f"backbone.{layer}.{block}"
    if module == "downsample":
        return _conv_module(f"{base}.downsample", "conv" if rest[0] == "0" else "bn", rest[1])
    if module.startswith("bn"):
        return _conv_module(f"{base}.conv{module[2:]}", "bn", rest[0])
    if rest[0] == "net":  # TSM: blocks[i].conv1.conv = TemporalShift(b.conv1.conv)
        return f"{base}.{module}.conv.net.{rest[1]}"
    return _conv_module(f"{base}.{module}", "conv", rest[0])


_LETTER = {"a": "1", "b": "2", "c": "3"}


def mmaction2_bottleneck3d(base: str, module: str, rest: list[str]) -> str:
    """mmaction2 Bottleneck3d / BlockX3D names: conv1..3 and downsample ConvModules, se_module.fc1/fc2."""
    if module == "shortcut":
        return _conv_module(f"{base}.downsample", "conv" if rest[0] == "0" else "bn", rest[1])
    if module == "se":  # se.gate.1 / se.gate.3
        return f"{base}.se_module.fc{1 if rest[1] == '1' else 2}.{rest[2]}"
    kind, letter = module.split("_")
    return _conv_module(f"{base}.conv{_LETTER[letter]}", kind, rest[0])


def mmaction2_i3d(key: str) -> str:
    parts = key.split(".")
    if parts[0] == "fc":
        return "cls_head.fc_cls." + parts[1]
    if parts[0] == "stem":
        return _conv_module("backbone.conv1", "conv" if parts[1] == "0" else "bn", parts[2])
    stage, block, module, *rest = parts[1:]
    layer = {"0": 1, "2": 2, "3": 3, "4": 4}[stage]  # stages.1 is the temporal pool
    return mmaction2_bottleneck3d(f"backbone.layer{layer}.{block}", module, rest)


def mmaction2_x3d(key: str) -> str:
    parts = key.split(".")
    if parts[0] == "stem":
        return {"0": "backbone.conv1_s.conv", "1": "backbone.conv1_t.conv", "2": "backbone.conv1_t.bn"}[parts[1]] + \
            "." + parts[2]
    if parts[0] == "head":
        return {"0": "backbone.conv5.conv", "1": "backbone.conv5.bn", "4": "cls_head.fc1", "8": "cls_head.fc2"}[
            parts[1]] + "." + parts[2]
    stage, block, module, *rest = parts[1:]
    return mmaction2_bottleneck3d(f"backbone.layer{int(stage) + 1}.{block}", module, rest)


C3D_CONVS = {"0": "1a", "3": "2a", "6": "3a", "8": "3b", "11": "4a", "13": "4b", "16": "5a", "18": "5b"}


def mmaction2_c3d(key: str) -> str:
    group, index, rest = key.split(".")
    if group == "features":
        return f"backbone.conv{C3D_CONVS[index]}.conv.{rest}"
    return {"1": "backbone.fc6", "4": "backbone.fc7", "7": "cls_head.fc_cls"}[index] + "." + rest


def mmaction2_timesformer(key: str) -> str:
    parts = key.split(".")
    if parts[0] in ("cls_token", "pos_embed", "time_embed"):
        return "backbone." + key
    if parts[0] == "patch_embed":
        return "backbone.patch_embed.projection." + parts[1]
    if parts[0] == "norm":
        return "backbone.norm." + parts[1]
    if parts[0] == "head":
        return "cls_head.fc_cls." + parts[1]
    layer = f"backbone.transformer_layers.layers.{parts[1]}"
    module, rest = parts[2], parts[3:]
    if module in ("attn_t", "attn"):
        index = 0 if module == "attn_t" else 1
        return (f"{layer}.attentions.{index}.attn.in_proj_{rest[1]}" if rest[0] == "qkv"
                else f"{layer}.attentions.{index}.attn.out_proj.{rest[1]}")
    return {"norm_t": f"{layer}.attentions.0.norm", "fc_t": f"{layer}.attentions.0.temporal_fc",
            "norm1": f"{layer}.attentions.1.norm", "norm2": f"{layer}.ffns.0.norm",
            "mlp": f"{layer}.ffns.0.layers.{'0.0' if rest[0] == '0' else '1'}"}[module] + "." + rest[-1]


def mmaction2_videomae(key: str) -> str:
    if key.startswith("head."):
        return "cls_head.fc_cls." + key[5:]
    if key.startswith("patch_embed."):
        return "backbone.patch_embed.projection." + key[12:]
    return "backbone." + re.sub(r"\.mlp\.(\d)\.", lambda m: ".mlp.layers.0.0." if m[1] == "0" else ".mlp.layers.1.",
                                key)


MMACTION2 = [
    ("tsn_resnet18", mmaction2_resnet2d),
    ("tsn_resnet50", mmaction2_resnet2d),
    ("tsm_resnet50", mmaction2_resnet2d),
    ("i3d_r50", mmaction2_i3d),
    ("x3d_s", mmaction2_x3d),
    ("c3d", mmaction2_c3d),
    ("timesformer_b", mmaction2_timesformer),
    ("videomae_vit_b", mmaction2_videomae),
]


@pytest.mark.parametrize("name, official", MMACTION2, ids=[m[0] for m in MMACTION2])
def test_mmaction2_checkpoints_fill_every_key(name, official):
    model = meta(name)
    checkpoint = official_checkpoint(model, official)
    if name == "x3d_s":  # X3DHead's fc1 is a Linear
        checkpoint["cls_head.fc1.weight"] = checkpoint["cls_head.fc1.weight"].flatten(1)
    if name == "videomae_vit_b":  # vit_mae.py registers its sine-cosine table as a buffer
        checkpoint["backbone.pos_embed"] = torch.empty(1, 1568, 768, device="meta")
    expected = {k: official(k) for k in model.state_dict()}
    report = assert_lands(name, model, checkpoint, expected, "mmaction2")
    assert report.ignored == (("backbone.pos_embed",) if name == "videomae_vit_b" else ())


def test_an_mmaction2_file_loads_through_create_model(tmp_path):
    """{"state_dict": ..., "meta": ...} as mmengine saves it, into a model of another class count."""
    torch.manual_seed(0)
    resnet = create_model("tsm_resnet18", num_classes=400).state_dict()
    state = {mmaction2_resnet2d(k): v for k, v in resnet.items()}
    torch.save({"state_dict": state, "meta": {"epoch": 50}}, tmp_path / "tsm.pth")
    model = create_model("tsm_resnet18", num_classes=5, weights=str(tmp_path / "tsm.pth"))
    assert load_report(model).layout == "mmaction2"
    assert load_report(model).reinitialised == ("fc.weight", "fc.bias")
    assert all(torch.equal(v, resnet[k]) for k, v in model.state_dict().items() if not k.startswith("fc."))


def test_mmaction2_slowfast_is_refused_naming_the_keys_and_the_layouts_tried():
    """mmaction2's laterals have no BatchNorm, so there is no mmaction2 map for SlowFast."""
    model = meta("slowfast_r50")
    checkpoint = {"backbone.slow_path.conv1_lateral.conv.weight": torch.empty(16, 8, 7, 1, 1, device="meta")}
    info = model_info("slowfast_r50")
    with pytest.raises(RegistryError, match=r"do not fit model 'slowfast_r50': .*1 unexpected key\(s\) \(backbone\."
                                            r"slow_path\.conv1_lateral\.conv\.weight\) \[layouts tried: native, "
                                            r"pytorchvideo; "):
        plan_weights(model.state_dict(), checkpoint, "ckpt", "slowfast_r50", info.arch, info.head)


# -- the official VideoMAE and TimeSformer releases ---------------------------------------------------------
def videomae_official(key: str) -> str:
    key = re.sub(r"^patch_embed\.", "patch_embed.proj.", key)
    return re.sub(r"\.mlp\.(\d)\.", lambda m: ".mlp.fc1." if m[1] == "0" else ".mlp.fc2.", key)


TIMESFORMER_OFFICIAL = {"norm_t": "temporal_norm1", "attn_t": "temporal_attn", "fc_t": "temporal_fc"}


def timesformer_official(key: str) -> str:
    key = re.sub(r"^patch_embed\.", "patch_embed.proj.", key)
    key = re.sub(r"\.(norm_t|attn_t|fc_t)\.", lambda m: f".{TIMESFORMER_OFFICIAL[m[1]]}.", key)
    key = re.sub(r"\.mlp\.(\d)\.", lambda m: ".mlp.fc1." if m[1] == "0" else ".mlp.fc2.", key)
    return "model." + key  # the TimeSformer wrapper's `self.model`


@pytest.mark.parametrize("name, official, layout", [
    ("videomae_vit_b", videomae_official, "videomae-official"),
    ("timesformer_b", timesformer_official, "timesformer-official"),
])
def test_official_releases_fill_every_key(name, official, layout):
    model = meta(name)
    assert_lands(name, model, official_checkpoint(model, official), {k: official(k) for k in model.state_dict()},
                 layout)


@pytest.mark.parametrize("name, official, wrapper", [
    ("videomae_tiny", videomae_official, "module"),
    ("videomae_tiny", videomae_official, "model"),
    ("timesformer_tiny", timesformer_official, "model_state"),
    ("timesformer_tiny", timesformer_official, "model"),
])
def test_official_files_load_through_create_model(name, official, wrapper, tmp_path):
    torch.manual_seed(0)
    source = create_model(name, num_classes=400).state_dict()
    torch.save({wrapper: {official(k): v for k, v in source.items()}, "epoch": 30}, tmp_path / "w.pth")
    model = create_model(name, num_classes=400, weights=str(tmp_path / "w.pth"))
    assert all(torch.equal(v, source[k]) for k, v in model.state_dict().items())


# -- torchvision's ImageNet classifiers as per-frame backbones ----------------------------------------------------
@pytest.mark.parametrize("name, network", [
    ("tsn_resnet50", "resnet50"), ("tsm_resnet18", "resnet18"), ("lrcn_resnet18_gru", "resnet18"),
    ("lrcn_mobilenet_v3_gru", "mobilenet_v3_large"),
])
def test_torchvision_imagenet_weights_fill_the_frame_backbone(name, network):
    import torchvision

    with torch.device("meta"):
        imagenet = getattr(torchvision.models, network)().state_dict()
    model = meta(name, num_classes=1000)
    lrcn = name.startswith("lrcn")

    def backbone_key(key: str) -> str | None:
        if key.startswith("fc."):
            return None if lrcn else key
        if key.startswith("rnn."):
            return None
        key = key.split(".", 1)[1]
        return re.sub(r"\.conv1\.net\.", ".conv1.", key)

    expected = {k: n for k in model.state_dict() if (n := backbone_key(k)) is not None}
    info = model_info(name)
    load, report = plan_weights(model.state_dict(), imagenet, "imagenet", name, info.arch, info.head)
    assert report.layout == "torchvision-imagenet"
    assert all(load[k] is imagenet[n] for k, n in expected.items())
    if lrcn:  # the RNN and classifier start fresh: not the image classifier's
        assert set(model.state_dict()) - set(load) == {k for k in model.state_dict() if k.startswith(("rnn.", "fc."))}


def test_imagenet_weights_by_name_make_tsn_the_imagenet_classifier_per_frame(tmp_path, monkeypatch):
    """`weights: IMAGENET1K_V1` from the torch cache: on a one-frame clip TSN is torchvision's ResNet-18."""
    import torchvision

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    torch.manual_seed(0)
    resnet = randomised(torchvision.models.resnet18())
    url = torchvision.models.get_weight("ResNet18_Weights.IMAGENET1K_V1").url
    cached = tmp_path / "checkpoints" / url.rsplit("/", 1)[1]
    cached.parent.mkdir()
    torch.save(resnet.state_dict(), cached)
    tsn = create_model("tsn_resnet18", num_classes=1000, weights="IMAGENET1K_V1").eval()
    assert load_report(tsn).layout == "torchvision-imagenet" and load_report(tsn).source == str(cached)
    frame = torch.randn(2, 3, 1, 64, 64)
    with torch.no_grad():
        assert torch.allclose(tsn(frame), resnet(frame[:, :, 0]), atol=1e-5)


# -- masked-autoencoder pre-training: the encoder is the backbone ---------------------------------------------
def test_an_official_videomae_pretraining_checkpoint_starts_a_fine_tune(tmp_path):
    """modeling_pretrain.py's `encoder.` / `decoder.` names, read as run_class_finetuning.py does: the
    encoder's blocks load, its final norm and the decoder are left out, fc_norm and the head start fresh."""
    torch.manual_seed(0)
    encoder = create_model("videomae_tiny", num_classes=400).state_dict()
    state = {"encoder." + videomae_official(k): v for k, v in encoder.items()
             if not k.startswith(("fc_norm.", "head."))}
    extra = {"encoder.norm.weight": torch.ones(64), "encoder.norm.bias": torch.zeros(64),
             "decoder.blocks.0.norm1.weight": torch.ones(32), "decoder.head.weight": torch.zeros(1536, 32),
             "encoder_to_decoder.weight": torch.zeros(32, 64), "mask_token": torch.zeros(1, 1, 32)}
    torch.save({"model": {**state, **extra}}, tmp_path / "pretrain.pth")
    model = create_model("videomae_tiny", num_classes=5, weights=str(tmp_path / "pretrain.pth"))
    report = load_report(model)
    assert report.layout == "videomae-official"
    assert set(report.reinitialised) == {"fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias"}
    assert set(report.ignored) == set(extra)
    assert all(torch.equal(v, encoder[k]) for k, v in model.state_dict().items() if k not in report.reinitialised)
