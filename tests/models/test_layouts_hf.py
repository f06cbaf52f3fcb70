"""Hugging Face transformers' video classifiers: built from their configs (nothing downloaded), saved
with `save_pretrained`, and loaded with `weights:` into vidbench's model, whose logits must match
transformers' own forward pass; the default configs are vidbench's ViT-B models, parameter for parameter."""

from __future__ import annotations

import re
import warnings

import pytest
import torch
import torch.nn as nn

from vidbench.measure.flops import count_params
from vidbench.models import create_model, model_info
from vidbench.models.weights import load_report, plan_weights

transformers = pytest.importorskip("transformers")

TINY_VIT = dict(image_size=32, patch_size=8, num_frames=4, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=256, num_labels=5)
VIDBENCH_TINY = dict(patch_size=8, dim=64, depth=2, heads=4)


def hf_pair(kind: str) -> tuple[nn.Module, str, dict]:
    """A tiny HF classifier with random weights, and the vidbench model and args of the same size; the
    LayerNorm eps set to vidbench's so the logits can match exactly."""
    torch.manual_seed(0)
    if kind == "videomae":
        config = transformers.VideoMAEConfig(**TINY_VIT, layer_norm_eps=1e-6)
        hf = transformers.VideoMAEForVideoClassification(config)
        return hf, "videomae_tiny", dict(VIDBENCH_TINY, tubelet_size=2)
    config = transformers.TimesformerConfig(**TINY_VIT, layer_norm_eps=1e-5)
    hf = transformers.TimesformerForVideoClassification(config)
    return hf, "timesformer_tiny", dict(VIDBENCH_TINY, img_size=32, num_frames=4)


def assert_same_logits(hf: nn.Module, ours: nn.Module) -> None:
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        expected = hf.eval()(pixel_values=x.transpose(1, 2)).logits  # HF takes (B, T, C, H, W)
        assert torch.allclose(ours.eval()(x), expected, atol=1e-5)


@pytest.mark.parametrize("kind", ["videomae", "timesformer"])
def test_a_hugging_face_folder_gives_the_hugging_face_logits(kind, tmp_path):
    hf, name, args = hf_pair(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hf.save_pretrained(tmp_path / "hf")
    ours = create_model(name, num_classes=5, weights=str(tmp_path / "hf"), **args)
    assert load_report(ours).layout == f"hf-{kind}"
    assert load_report(ours).source.endswith("model.safetensors")
    assert_same_logits(hf, ours)


def test_a_transformers_4_videomae_bin_with_q_v_bias_names_loads(tmp_path):
    """Hub files saved by transformers 4.x name the biases `q_bias` / `v_bias` (transformers'
    conversion_mapping.py renames them to `query.bias` / `value.bias` on load)."""
    hf, name, args = hf_pair("videomae")
    old_name = lambda m: f"attention.attention.{m[1][0]}_bias"  # noqa: E731
    state = {re.sub(r"attention\.attention\.(query|value)\.bias$", old_name, k): v for k, v in hf.state_dict().items()}
    assert any(k.endswith("q_bias") for k in state)
    (tmp_path / "hf").mkdir()
    torch.save(state, tmp_path / "hf" / "pytorch_model.bin")
    assert_same_logits(hf, create_model(name, num_classes=5, weights=str(tmp_path / "hf"), **args))


@pytest.mark.parametrize("name, config, classifier, keys", [
    ("videomae_vit_b", "VideoMAEConfig", "VideoMAEForVideoClassification", {}),
    ("timesformer_b", "TimesformerConfig", "TimesformerForVideoClassification", {}),
    # TimeSformer-HR and -L: the Hub's facebook/timesformer-hr-finetuned-k400 (448 px, 16 frames) and the L config
    ("timesformer_hr", "TimesformerConfig", "TimesformerForVideoClassification", dict(image_size=448, num_frames=16)),
    ("timesformer_l", "TimesformerConfig", "TimesformerForVideoClassification", dict(num_frames=96)),
])
def test_default_hugging_face_configs_are_the_vidbench_models(name, config, classifier, keys):
    """Same parameter count, and every tensor of the default-config model fills one of vidbench's."""
    with torch.device("meta"):
        hf = getattr(transformers, classifier)(getattr(transformers, config)(**keys))
    with torch.device("meta"):
        ours = create_model(name, num_classes=hf.config.num_labels)
    assert count_params(hf) == count_params(ours)
    info = model_info(name)
    load, report = plan_weights(ours.state_dict(), hf.state_dict(), "hf", name, info.arch, info.head)
    assert report.layout == f"hf-{info.arch}" and report.loaded == len(ours.state_dict())


def test_a_hugging_face_videomae_pretraining_folder_starts_a_fine_tune(tmp_path):
    torch.manual_seed(0)
    config = transformers.VideoMAEConfig(**TINY_VIT, decoder_hidden_size=32, decoder_num_hidden_layers=1,
                                         decoder_num_attention_heads=2, decoder_intermediate_size=64)
    pretraining = transformers.VideoMAEForPreTraining(config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pretraining.save_pretrained(tmp_path / "hf")
    model = create_model("videomae_tiny", num_classes=5, weights=str(tmp_path / "hf"), **VIDBENCH_TINY, tubelet_size=2)
    report = load_report(model)
    assert report.layout == "hf-videomae"
    assert set(report.reinitialised) == {"fc_norm.weight", "fc_norm.bias", "head.weight", "head.bias"}
    assert any(k.startswith("decoder.") for k in report.ignored)
    hf = pretraining.state_dict()
    assert torch.equal(model.state_dict()["blocks.1.mlp.2.weight"], hf["videomae.encoder.layer.1.output.dense.weight"])
    assert torch.equal(model.state_dict()["patch_embed.weight"],
                       hf["videomae.embeddings.patch_embeddings.projection.weight"])
