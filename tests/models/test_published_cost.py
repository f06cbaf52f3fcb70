"""`gmacs_per_video` at the published protocol, counted on the meta device (vidbench.measure.flops, no real
forward), pinned against the figures the sources themselves state (GFLOPs there are multiply-accumulates:
fvcore's convention, which PySlowFast, PyTorchVideo and mmaction2 count with)."""

from __future__ import annotations

import dataclasses

import pytest

from vidbench.measure.flops import model_cost
from vidbench.models.published import primary_result, published_results


def per_view_gmacs(model: str, result) -> float:
    return model_cost(model, 400, {}, result.frames, result.size, result.size).gmacs


def per_video_gmacs(model: str) -> float:
    """The published protocol's cost: one view's GMACs × clips × crops (what the cost scenario stores)."""
    result = primary_result(model)
    return per_view_gmacs(model, result) * result.views


# (model, the source's per-view figure, views, the source). Only figures a source states are pinned here.
SOURCE_FIGURES = [
    # PyTorchVideo model zoo (pytorchvideo docs/source/model_zoo.md), Kinetics-400, SlowFast R50 8x8:
    # 'Flops (G) x views' 65.71 x 3 x 10, at 32x256² (the note of published.py's second slowfast_r50 row).
    ("slowfast_r50", 65.71, 30, 0.001),
    # X3D (Feichtenhofer, CVPR 2020), Kinetics-400 comparison: X3D-M 6.2 GFLOPs x 30 views and X3D-L
    # 24.8 x 30, at the 30-view test crop (256², 356²): stated to one decimal.
    ("x3d_m", 6.2, 30, 0.01),
    ("x3d_l", 24.8, 30, 0.01),
]


@pytest.mark.parametrize(("model", "gmacs", "views", "rel"), SOURCE_FIGURES)
def test_gmacs_per_video_is_the_sources_figure_times_its_views(model, gmacs, views, rel):
    assert primary_result(model).views == views
    assert per_video_gmacs(model) == pytest.approx(gmacs * views, rel=rel)


@pytest.mark.parametrize(("model", "gmacs"), [("x3d_m", 4.73), ("x3d_l", 18.37), ("x3d_s", 1.96), ("x3d_xs", 0.60)])
def test_x3d_per_view_gmacs_are_pyslowfasts_at_the_training_crop(model, gmacs):
    """PySlowFast MODEL_ZOO.md, 'X3D models' table, 'FLOPs (G)' column: one view at the training crop, the
    crop of the 10-view rows (160, 224, 312)."""
    ten_view = next(r for r in published_results(model) if r.views == 10)
    assert per_view_gmacs(model, ten_view) == pytest.approx(gmacs, abs=0.006 if gmacs < 1 else 0.005 * gmacs)


def test_tsn_resnet50_is_250_single_frames_of_resnet50():
    """mmaction2's TSN protocol: 25 clips of one frame × 10 crops of 224² = 250 ResNet-50 frames; torchvision
    states ResNet-50's cost (ResNet50_Weights.IMAGENET1K_V1 meta '_ops': 4.089 GFLOPS, multiply-accumulates,
    with a 1000-class head; this one has 400 classes)."""
    result = primary_result("tsn_resnet50")
    assert (result.frames, result.size, result.clips, result.crops, result.sampling) == (1, 224, 25, 10, "segments")
    assert per_video_gmacs("tsn_resnet50") == pytest.approx(250 * 4.089, rel=0.002)
    eight_frames = per_view_gmacs("tsn_resnet50", dataclasses.replace(result, frames=8))
    assert eight_frames * 250 == pytest.approx(8 * per_video_gmacs("tsn_resnet50"), rel=1e-3)  # what it ran before
