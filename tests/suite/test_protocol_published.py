"""`protocol: published`: a model entry at its whole published test protocol (frames, frame stride, crop,
clips × crops, single-frame segments), replacing the suite's clip axes; `test_views: published` is its alias;
an `input:` that differs from the protocol is one line naming the model (exit 2)."""

from __future__ import annotations

import pytest

from vidbench.admission import admit_suite
from vidbench.errors import SuiteError
from vidbench.models.published import primary_result
from vidbench.suite.schema import parse_suite

RANDOM = [{"name": "random", "args": {"num_classes": 400}}]


def runs(entry, **kw):
    suite = {"name": "t", "models": [entry], "datasets": RANDOM, "metrics": ["params", "flops"], **kw}
    return admit_suite(parse_suite(suite))


def refusal(entry, **kw) -> str:
    with pytest.raises(SuiteError) as info:
        runs(entry, **kw)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize(("model", "clip", "side", "stride", "views"), [
    ("x3d_m", 16, 256, 5, (10, 3)),  # PySlowFast X3D-M 16x5, TEST_CROP_SIZE 256, 30 views
    ("slowfast_r50", 32, 256, 2, (10, 3)),  # SlowFast 8x8: 32 frames at sampling rate 2
    ("tsn_resnet50", 1, 224, 1, (25, 10)),  # mmaction2 TSN: 25 single frames x 10 crops (stride does not apply)
    ("r3d_18", 16, 112, 1, (5, 1)),  # torchvision: stride not stated (frame_rate resampling): the suite's
])
def test_the_protocol_replaces_the_clip_axes_and_sets_the_views(model, clip, side, stride, views):
    (spec,) = runs({"name": model, "protocol": "published"}, clip_lengths=[8], resolutions=[112])
    assert (spec.clip_length, spec.resolution, spec.frame_stride) == (clip, (side, side), stride)
    assert (spec.dataset_args["test_clips"], spec.dataset_args["test_crops"]) == views
    assert "sampling" not in spec.dataset_args  # noise samples no frames


def test_a_decoding_dataset_samples_tsn_single_frame_segments(tmp_path):
    root = tmp_path / "clips" / "a"
    root.mkdir(parents=True)
    (root / "v.mp4").write_bytes(b"")
    datasets = [{"name": "video-folder", "args": {"root": str(tmp_path / "clips")}}]
    specs = [admit_suite(parse_suite({"name": "t", "models": [{"name": m, "protocol": "published"}],
                                      "datasets": datasets, "metrics": ["params"]}))[0]
             for m in ("tsn_resnet50", "x3d_m")]
    assert specs[0].dataset_args["sampling"] == "segments" and "sampling" not in specs[1].dataset_args


def test_test_views_published_is_the_whole_protocol():
    (alias,) = runs({"name": "x3d_m", "test_views": "published"})
    (whole,) = runs({"name": "x3d_m", "protocol": "published"})
    assert alias.run_id == whole.run_id and (alias.clip_length, alias.resolution, alias.frame_stride) == (
        16, (256, 256), 5)
    assert refusal({"name": "x3d_m", "input": "default", "test_views": "published"}) == (
        "models[0] 'x3d_m': `input: default` (16x224²) differs from `protocol: published` (16x256²): "
        "drop one of them")


def test_an_input_that_differs_from_the_protocol_is_refused_naming_the_model():
    assert refusal({"name": "x3d_m", "input": "default", "protocol": "published"}) == (
        "models[0] 'x3d_m': `input: default` (16x224²) differs from `protocol: published` (16x256²): "
        "drop one of them")
    (spec,) = runs({"name": "r3d_18", "input": "default", "protocol": "published"})  # the same clip: fine
    assert (spec.clip_length, spec.resolution) == (16, (112, 112))


def test_a_model_without_a_published_result_or_a_dataset_without_views_is_refused():
    assert refusal({"name": "tsm_resnet18", "protocol": "published"}).startswith(
        "models[0] 'tsm_resnet18': protocol: published: model 'tsm_resnet18' has no published result (")
    assert refusal({"name": "x3d_m", "protocol": "published"}, datasets=["synthetic-motion"]) == (
        "models[0] 'x3d_m': protocol: published needs test_clips and test_crops, which dataset "
        "'synthetic-motion' does not take")
    # an excluded combination is not refused
    assert runs({"name": "x3d_m", "protocol": "published"}, datasets=["synthetic-motion", *RANDOM],
                exclude=[{"dataset": "synthetic-motion"}])


def test_the_protocol_is_the_primary_results():
    (spec,) = runs({"name": "videomae_vit_b", "protocol": "published"})
    primary = primary_result("videomae_vit_b")
    assert (spec.clip_length, spec.frame_stride, spec.dataset_args["test_clips"]) == (
        primary.frames, primary.frame_stride, primary.clips) == (16, 4, 5)


def test_views_batch_is_a_benchmark_key_left_out_of_ids_when_automatic():
    base = {"name": "x3d_m", "protocol": "published"}
    (auto,) = admit_suite(parse_suite({"name": "t", "models": [base], "datasets": RANDOM, "metrics": ["latency"]}))
    (four,) = admit_suite(parse_suite({"name": "t", "models": [base], "datasets": RANDOM, "metrics": ["latency"],
                                       "benchmark": {"views_batch": 4}}))
    assert auto.benchmark["views_batch"] is None and "views_batch" not in auto.identity()["benchmark"]
    assert four.identity()["benchmark"]["views_batch"] == 4 and four.run_id != auto.run_id
    with pytest.raises(SuiteError, match="views_batch = 0"):
        parse_suite({"name": "t", "models": ["tsn_tiny"], "benchmark": {"views_batch": 0}})
