"""Published accuracy per model (vidbench.models.published): torchvision's figures are its metadata's,
own implementations' figures are pinned to their sources, every full-size model has a result or a reason."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest
from torchvision.models import get_weight

import vidbench.models.published as published
from vidbench.errors import RegistryError
from vidbench.models import list_models, model_info
from vidbench.models.published import (
    K400,
    NO_PUBLISHED,
    PUBLISHED,
    OWN_RESULTS,
    SSV2,
    TORCHVISION_RESULTS,
    TORCHVISION_WEIGHTS,
    Published,
    full_size_models,
    no_published_reason,
    primary_result,
    published_results,
    torchvision_published,
)

TV_PAIRS = [(model, w) for model, weights in TORCHVISION_WEIGHTS.items() for w in weights]


# --- torchvision's models: every value is its metadata's ----------------------------------------------------

@pytest.mark.parametrize(("model", "weights"), TV_PAIRS, ids=[w for _, w in TV_PAIRS])
def test_torchvision_values_are_its_metadata(model, weights):
    entry = get_weight(weights)
    meta = entry.meta
    docs = dict(re.findall(r"`(\w+)=([0-9.]+)`", meta["_docs"]))
    result = next(r for r in published_results(model) if weights in r.source)
    assert result.dataset == K400 and list(meta["_metrics"]) == ["Kinetics-400"]
    assert result.top1 == meta["_metrics"]["Kinetics-400"]["acc@1"]
    assert result.top5 == meta["_metrics"]["Kinetics-400"]["acc@5"]
    assert result.frames == int(docs["clip_len"])
    assert result.clips == int(docs["clips_per_video"])
    assert result.size == entry.transforms().crop_size[0] == entry.transforms().crop_size[1]
    assert result.crops == 1  # VideoClassification: one resize, one centre crop
    assert f"frame_rate={docs['frame_rate']}" in result.note
    assert result == torchvision_published(weights)


def test_the_written_out_torchvision_rows_are_its_weight_sets_metadata_in_order():
    """The table is read without torchvision (a report, `vidbench models`): it must say what the metadata says."""
    assert set(TORCHVISION_RESULTS) == set(TORCHVISION_WEIGHTS)
    for model, weights in TORCHVISION_WEIGHTS.items():
        assert TORCHVISION_RESULTS[model] == tuple(torchvision_published(w) for w in weights)


# What torchvision 0.29's sources state (models/video/*.py `_docs` and transforms), written out: a parsing
# slip (e.g. reading clips_per_video as the clip length) breaks this even when the metadata test agrees.
TV_PROTOCOL = {  # model → (frames, crop, clips per video)
    "r3d_18": (16, 112, 5), "mc3_18": (16, 112, 5), "r2plus1d_18": (16, 112, 5), "s3d": (128, 224, 1),
    "mvit_v1_b": (16, 224, 5), "mvit_v2_s": (16, 224, 5),
    "swin3d_t": (32, 224, 12), "swin3d_s": (32, 224, 12), "swin3d_b": (32, 224, 12),
}


@pytest.mark.parametrize("model", sorted(TV_PROTOCOL))
def test_torchvision_protocols(model):
    for result in published_results(model):
        assert (result.frames, result.size, result.clips, result.crops) == (*TV_PROTOCOL[model], 1)


def test_torchvision_models_list_their_weight_sets_default_first():
    assert set(TORCHVISION_WEIGHTS) == set(TV_PROTOCOL)
    for model, weights in TORCHVISION_WEIGHTS.items():
        enum_name = weights[0].split(".")[0]
        assert get_weight(f"{enum_name}.DEFAULT") is get_weight(weights[0])
        assert all(w.split(".")[0] == enum_name for w in weights)
        assert len(published_results(model)) == len(weights)
        registered = model_info(model).torchvision_weights  # if the registry names it, it is the same enum
        assert registered in (None, enum_name)
    swin_b = published_results("swin3d_b")
    assert [r.pretraining.split(" ")[0] for r in swin_b] == ["ImageNet-1k", "ImageNet-22k"]


def test_every_registered_torchvision_video_model_takes_torchvisions_figures():
    # A registry entry naming a torchvision weights enum with Kinetics metrics is a torchvision video model;
    # the ImageNet backbones of TSN/TSM/LRCN (e.g. "ResNet50_Weights") are not and do not count.
    for name in full_size_models():
        enum_name = model_info(name).torchvision_weights
        if enum_name and "Kinetics-400" in get_weight(f"{enum_name}.DEFAULT").meta["_metrics"]:
            assert TORCHVISION_WEIGHTS[name][0] == f"{enum_name}.KINETICS400_V1"


def test_every_torchvision_weight_set_has_its_pretraining():
    assert set(published.TORCHVISION_PRETRAINING) == {w for _, w in TV_PAIRS}
    for model in ("r3d_18", "mc3_18", "r2plus1d_18", "s3d", "mvit_v1_b", "mvit_v2_s"):
        assert published_results(model)[0].pretraining.startswith("none (from scratch")


# --- own implementations: pinned to the figures of their sources --------------------------------------------

# model → [(dataset, top-1, top-5, frames, crop, clips, crops)], in order; each from the source its entry names.
PINNED = {
    # GluonCV Kinetics400.csv: c3d_kinetics400 59.5 (16 (32/2) frames, 112², 10 clips x 3 crops).
    "c3d": [(K400, 59.5, None, 16, 112, 10, 3)],
    # PySlowFast MODEL_ZOO.md I3D R50 8x8 73.5/90.8, 3 x 10; PyTorchVideo zoo 73.27/90.70 (37.53 x 3 x 10).
    "i3d_r50": [(K400, 73.5, 90.8, 8, 256, 10, 3), (K400, 73.27, 90.70, 8, 256, 10, 3)],
    # PySlowFast MODEL_ZOO.md SlowFast R50 8x8 77.0/92.6; PyTorchVideo zoo 76.94/92.69 and SSv2 61.68/86.92.
    "slowfast_r50": [(K400, 77.0, 92.6, 32, 256, 10, 3), (K400, 76.94, 92.69, 32, 256, 10, 3),
                     (SSV2, 61.68, 86.92, 32, 256, 1, 3)],
    # PySlowFast MODEL_ZOO.md X3D (top1 30-view, top1 10-view); PyTorchVideo zoo (top 1, top 5).
    "x3d_xs": [(K400, 69.5, None, 4, 182, 10, 3), (K400, 68.7, None, 4, 160, 10, 1),
               (K400, 69.12, 88.63, 4, 182, 10, 3)],
    "x3d_s": [(K400, 73.5, None, 13, 182, 10, 3), (K400, 73.1, None, 13, 160, 10, 1),
              (K400, 73.33, 91.27, 13, 182, 10, 3)],
    "x3d_m": [(K400, 76.2, None, 16, 256, 10, 3), (K400, 75.1, None, 16, 224, 10, 1),
              (K400, 75.94, 92.72, 16, 256, 10, 3)],
    "x3d_l": [(K400, 77.5, None, 16, 356, 10, 3), (K400, 76.9, None, 16, 312, 10, 1),
              (K400, 77.44, 93.31, 16, 356, 10, 3)],
    # VMZ tutorials/models.md, Video@1 / Video@5, 16x112x112 then 8x112x112 rows; 10 clips, 1 crop.
    "r2d_18": [(K400, 60.9, 81.9, 16, 112, 10, 1), (K400, 60.0, 81.8, 8, 112, 10, 1)],
    "mc2_18": [(K400, 64.8, 85.1, 16, 112, 10, 1), (K400, 63.0, 83.8, 8, 112, 10, 1)],
    "mc4_18": [(K400, 65.6, 85.6, 16, 112, 10, 1), (K400, 63.0, 84.2, 8, 112, 10, 1)],
    "mc5_18": [(K400, 65.6, 85.5, 16, 112, 10, 1), (K400, 62.9, 84.2, 8, 112, 10, 1)],
    "rmc2_18": [(K400, 65.4, 85.5, 16, 112, 10, 1), (K400, 62.7, 83.9, 8, 112, 10, 1)],
    "rmc3_18": [(K400, 65.5, 85.7, 16, 112, 10, 1), (K400, 62.8, 83.7, 8, 112, 10, 1)],
    "rmc4_18": [(K400, 65.6, 85.3, 16, 112, 10, 1), (K400, 62.8, 83.3, 8, 112, 10, 1)],
    "rmc5_18": [(K400, 63.5, 84.2, 16, 112, 10, 1), (K400, 61.6, 83.1, 8, 112, 10, 1)],
    # GluonCV resnet18_v1b_kinetics400 (TSN) 65.5, 250 views = 25 frames x 10 crops.
    "tsn_resnet18": [(K400, 65.5, None, 1, 224, 25, 10)],
    # mmaction2 TSN 1x1x8 ResNet50: K400 74.12/91.34, SSv2 35.51/67.09, '25 clips x 10 crop'.
    "tsn_resnet50": [(K400, 74.12, 91.34, 1, 224, 25, 10), (SSV2, 35.51, 67.09, 1, 224, 25, 10)],
    # TSM README dense 8 * 10clips 74.1 (3 full-res 256 crops); mmaction2 TSM 1x1x8: 73.18/90.56, SSv2 62.72/87.70.
    "tsm_resnet50": [(K400, 74.1, None, 8, 256, 10, 3), (K400, 73.18, 90.56, 8, 224, 1, 10),
                     (SSV2, 62.72, 87.70, 8, 256, 2, 3)],
    # TimeSformer README: K400 8 frames 224 77.9/93.2, SSv2 59.1/85.6; 1 clip x 3 crops.
    "timesformer_b": [(K400, 77.9, 93.2, 8, 224, 1, 3), (SSV2, 59.1, 85.6, 8, 224, 1, 3)],
    # ... TimeSformer-HR 16 frames 448 79.6/94.0 and TimeSformer-L 96 frames 224 80.6/94.7 (the configs' 1 x 3 views).
    "timesformer_hr": [(K400, 79.6, 94.0, 16, 448, 1, 3)],
    "timesformer_l": [(K400, 80.6, 94.7, 96, 224, 1, 3)],
    # VideoMAE MODEL_ZOO.md: K400 16x5x3 (1600 ep), SSv2 16x2x3 (2400 ep).
    # ... and VideoMAE V2 docs/MODEL_ZOO.md, Distillation table: the distilled ViT-S/B students on K400.
    "videomae_vit_s": [(K400, 79.0, 93.8, 16, 224, 5, 3), (SSV2, 66.8, 90.3, 16, 224, 2, 3),
                       (K400, 83.7, None, 16, 224, 5, 3)],
    "videomae_vit_b": [(K400, 81.5, 95.1, 16, 224, 5, 3), (SSV2, 70.8, 92.4, 16, 224, 2, 3),
                       (K400, 86.6, None, 16, 224, 5, 3)],
    # Scenic ViViT README: ViViT-B/16x2 FE, Kinetics 400, 78.4, views 4x3, 32 frames.
    "vivit_b": [(K400, 78.4, None, 32, 224, 4, 3)],
    # VideoMAE MODEL_ZOO.md, K400 1600 ep, 16x5x3 (issue 26: 85.2 / 86.6).
    "videomae_vit_l": [(K400, 85.2, 96.8, 16, 224, 5, 3)],
    "videomae_vit_h": [(K400, 86.6, 97.1, 16, 224, 5, 3)],
    # VideoMAE V2 docs/MODEL_ZOO.md Fine-tune: ViT-giant k400_ft, k710_it_k400_ft, ssv2_ft.
    "videomaev2_vit_g": [(K400, 87.2, 97.4, 16, 224, 5, 3), (K400, 88.4, 98.0, 16, 224, 5, 3),
                         (SSV2, 77.0, 95.9, 16, 224, 2, 3)],
    # V-JEPA 2 README, Evaluation Attentive Probes: SSv2 ViT-L/16 16x2x3 at 256, ViT-g/16 384 64x2x3 (frozen).
    "vjepa2_vit_l": [(SSV2, 73.7, None, 16, 256, 2, 3)],
    "vjepa2_vit_g_384": [(SSV2, 77.3, None, 64, 384, 2, 3)],
}
# Models whose source gives attentive-probe results on SSv2 and none on Kinetics-400 (said in each row's note).
SSV2_ONLY = {"vjepa2_vit_l", "vjepa2_vit_g_384"}


@pytest.mark.parametrize("model", sorted(PINNED))
def test_own_implementation_figures_are_pinned(model):
    got = [(r.dataset, r.top1, r.top5, r.frames, r.size, r.clips, r.crops) for r in published_results(model)]
    assert got == PINNED[model]


def test_every_own_result_is_pinned():
    assert set(OWN_RESULTS) == set(PINNED)


@pytest.mark.parametrize(("model", "pretraining"), [
    ("c3d", "none (from scratch)"), ("i3d_r50", "none (from scratch)"), ("x3d_m", "none (from scratch)"),
    ("r2d_18", "none (from scratch)"), ("tsn_resnet50", "ImageNet-1k"), ("tsm_resnet50", "ImageNet-1k"),
    ("videomae_vit_b", "Kinetics-400 self-supervised (VideoMAE, 1600 ep)"),
    ("videomae_vit_s", "Kinetics-400 self-supervised (VideoMAE, 1600 ep)"),
])
def test_pretraining_of_the_primary_result(model, pretraining):
    assert published_results(model)[0].pretraining == pretraining


def test_ssv2_pretraining_is_stated_per_source():
    assert primary_result("videomae_vit_b", SSV2).pretraining == ("Something-Something v2 self-supervised "
                                                                   "(VideoMAE, 2400 ep)")
    assert primary_result("slowfast_r50", SSV2).pretraining.startswith("Kinetics-400")
    assert "ImageNet-21k" in primary_result("timesformer_b", SSV2).pretraining


def test_sources_name_the_row():
    assert "fR2D-18" in published_results("r2d_18")[0].source  # default stem_frames=1 is the paper's f-R2D
    assert "rMC5-18 8x112x112" in published_results("rmc5_18")[1].source
    assert "ViViT-B/16x2 FE" in published_results("vivit_b")[0].source  # the factorised encoder, not 79.9's model
    assert "c3d_kinetics400" in published_results("c3d")[0].source
    assert "X3D L" in published_results("x3d_l")[2].source


# --- coverage: every full-size model has a result or a reason; tiny presets have none ------------------------

def test_full_size_is_every_registered_model_not_ending_in_tiny():
    names = list_models()
    assert full_size_models() == [n for n in names if not n.endswith("_tiny")]
    assert published.FULL_SIZE == tuple(full_size_models())
    assert "convlstm" in full_size_models() and "c3d_tiny" not in full_size_models()


@pytest.mark.parametrize("model", full_size_models())
def test_every_full_size_model_has_a_kinetics_result_or_an_explicit_reason(model):
    results = published_results(model)
    if model in NO_PUBLISHED:
        assert results == ()
        assert no_published_reason(model) == NO_PUBLISHED[model]
        assert "Kinetics-400" in NO_PUBLISHED[model] and len(NO_PUBLISHED[model]) > 80
    else:
        assert model in OWN_RESULTS or model in TORCHVISION_WEIGHTS, f"{model}: no entry and no reason"
        if model in SSV2_ONLY:
            assert {r.dataset for r in results} == {SSV2} and "no Kinetics-400" in results[0].note
        else:
            assert any(r.dataset == K400 for r in results)
            assert results[0].dataset == K400 and primary_result(model) == results[0]
        assert no_published_reason(model) is None


def test_the_models_without_a_published_result():
    assert set(NO_PUBLISHED) == {"lrcn_resnet18_lstm", "lrcn_resnet18_gru", "lrcn_resnet50_lstm",
                                 "lrcn_mobilenet_v3_gru", "convlstm", "tsm_resnet18", "vjepa2_vit_h", "vjepa2_vit_g",
                                 "tsn_timm", "tsm_timm", "lrcn_timm"}  # timm templates: the backbone is an arg


def test_tables_name_only_registered_full_size_models_once():
    full = set(full_size_models())
    tables = [set(OWN_RESULTS), set(TORCHVISION_WEIGHTS), set(NO_PUBLISHED)]
    for table in tables:
        assert table <= full
    assert sum(len(t) for t in tables) == len(set().union(*tables))  # no model in two tables


@pytest.mark.parametrize("model", [n for n in list_models() if n.endswith("_tiny")])
def test_tiny_presets_have_none(model):
    assert published_results(model) == ()
    assert primary_result(model) is None
    assert "tiny preset" in no_published_reason(model)


def test_unknown_models_are_refused():
    with pytest.raises(RegistryError):
        published_results("no_such_model")
    with pytest.raises(RegistryError):
        no_published_reason("no_such_model")


def test_a_model_without_an_entry_gets_a_reason_not_silence(isolated_registries):
    from vidbench.models import register_model

    @register_model(family="cnn")
    def unlisted_net(num_classes: int = 400):
        raise NotImplementedError

    assert "unlisted_net" in full_size_models()
    assert published_results("unlisted_net") == ()
    assert "no published result is recorded" in no_published_reason("unlisted_net")


# --- every entry is sane --------------------------------------------------------------------------------------

ALL_RESULTS = [(m, i, r) for m in full_size_models() for i, r in enumerate(published_results(m))]


@pytest.mark.parametrize(("model", "index", "result"), ALL_RESULTS, ids=[f"{m}-{i}" for m, i, _ in ALL_RESULTS])
def test_every_entry_is_sane(model, index, result):
    assert isinstance(result, Published)
    assert result.dataset in (K400, SSV2)
    assert result.source.strip() and result.pretraining.strip()
    assert result.frames >= 1 and result.size >= 1 and result.clips >= 1 and result.crops >= 1
    assert result.views == result.clips * result.crops >= 1
    assert 0 < result.top1 <= 100
    if result.top5 is not None:
        assert result.top1 <= result.top5 <= 100


def test_published_is_frozen_with_views_and_input():
    r = Published(K400, 76.0, 92.3, 16, 224, 10, 3, "none (from scratch)", "somewhere")
    assert r.views == 30
    assert r.input == "16x224x224"
    assert r.protocol == "16x224x224, 10x3 views"
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.top1 = 1.0  # type: ignore[misc]


def test_the_module_imports_no_torch_at_import_time():
    tree = ast.parse(Path(published.__file__).read_text())
    top_level = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    top_level |= {node.module.split(".")[0] for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    assert not top_level & {"torch", "torchvision", "vidbench"}


@pytest.mark.parametrize(("model", "index", "result"), [
    (m, i, r) for m, results in PUBLISHED.items() for i, r in enumerate(results)])
def test_every_entry_states_its_protocol_or_says_why_not(model, index, result):
    """Frame stride, resize and sampling: stated, or None with the reason (Published.unstated): never a guess."""
    from vidbench.models.published import PROTOCOL_FIELDS, SAMPLINGS

    for name in PROTOCOL_FIELDS:
        reason = result.unknown(name)
        assert (getattr(result, name) is None) == (reason is not None), (model, index, name)
        assert reason is None or (name in dict(result.unstated) and len(reason) > 20), (model, index, name)
    assert result.sampling in (*SAMPLINGS, None)
    assert result.frame_stride is None or result.frame_stride >= 1
    assert result.resize is None or len(result.resize) in (1, 2)
    if result.sampling == "segments":
        assert result.unknown("frame_stride")  # one frame per segment: no stride


def test_videomae_v2_distilled_students_are_further_results_of_the_same_vits():
    """VideoMAE V2 docs/MODEL_ZOO.md (OpenGVLab/VideoMAEv2), Distillation table: ViT-small 83.7 and ViT-base 86.6
    K400 top-1 at 16x5x3, students of the K710-fine-tuned ViT-g; VideoMAE's own results stay primary."""
    for model, top1, own in (("videomae_vit_s", 83.7, 79.0), ("videomae_vit_b", 86.6, 81.5)):
        results = published_results(model)
        distilled = [r for r in results if "Distillation table" in r.source]
        assert len(distilled) == 1 and primary_result(model).top1 == own
        (r,) = distilled
        assert (r.dataset, r.top1, r.top5, r.frames, r.size, r.clips, r.crops) == (K400, top1, None, 16, 224, 5, 3)
        assert r.frame_stride is None and {f for f, _ in r.unstated} == {"frame_stride", "resize"}
