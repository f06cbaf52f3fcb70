"""The model registry: register_model, create_model, list_models, ModelInfo and InputLimits."""

from __future__ import annotations

import fnmatch

import pytest
import torch
import torch.nn as nn

import vidbench
from vidbench.errors import RegistryError
from vidbench.models import FAMILIES, InputLimits, create_model, list_models, model_info, register_model


def _head(num_classes: int, width: int = 4) -> nn.Module:
    return nn.Sequential(nn.Conv3d(3, width, 1), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(width, num_classes))


def test_the_function_name_is_the_model_name(isolated_registries):
    @register_model(family="cnn", default_input=(4, 16), paper="me")
    def reg_named_tiny(num_classes: int = 400, width: int = 4):
        return _head(num_classes, width)

    info = model_info("reg_named_tiny")
    assert info.name == "reg_named_tiny"
    assert info.family == "cnn"
    assert info.arch == "reg_named_tiny"  # arch defaults to the name
    assert (info.default_frames, info.default_size) == (4, 16)
    assert info.builder is reg_named_tiny  # the decorator hands the builder back unchanged
    assert "reg_named_tiny" in list_models()
    model = create_model("reg_named_tiny", num_classes=7, width=3)
    assert model(torch.randn(2, 3, 4, 16, 16)).shape == (2, 7)


def test_the_public_api_is_the_registry(isolated_registries):
    @vidbench.register_model(family="transformer", arch="x")
    def reg_public_tiny(num_classes: int = 400):
        return _head(num_classes)

    assert vidbench.list_models("reg_public_*") == ["reg_public_tiny"]
    assert isinstance(vidbench.create_model("reg_public_tiny", num_classes=3), nn.Module)


def test_a_duplicate_name_is_an_error(isolated_registries):
    @register_model(family="cnn")
    def reg_dup_tiny(num_classes: int = 400):
        return _head(num_classes)

    with pytest.raises(RegistryError, match="reg_dup_tiny"):
        @register_model(family="cnn")
        def reg_dup_tiny(num_classes: int = 400):  # noqa: F811
            return _head(num_classes)


def test_a_builtin_name_cannot_be_taken(isolated_registries):
    with pytest.raises(RegistryError, match="tsn_tiny"):
        @register_model(family="cnn")
        def tsn_tiny(num_classes: int = 400):
            return _head(num_classes)


def test_an_unknown_family_is_an_error(isolated_registries):
    with pytest.raises(RegistryError, match="'rnn'"):
        @register_model(family="rnn")
        def reg_bad_family(num_classes: int = 400):
            return _head(num_classes)
    assert "reg_bad_family" not in list_models()


def test_create_model_rejects_an_argument_the_builder_does_not_take():
    with pytest.raises(RegistryError) as info:
        create_model("tsn_tiny", num_classes=4, widht=8)
    assert "'widht'" in str(info.value)
    assert "width" in str(info.value)  # and says what it takes


def test_create_model_with_an_unknown_name_suggests_the_closest():
    with pytest.raises(RegistryError, match="did you mean 'lrcn_tiny'"):
        create_model("lrcn_tiyn")


def test_builders_taking_kwargs_accept_any_argument(isolated_registries):
    @register_model(family="cnn")
    def reg_kwargs_tiny(num_classes: int = 400, **kwargs):
        return _head(num_classes, kwargs.get("width", 2))

    assert model_info("reg_kwargs_tiny").accepted_args() is None
    assert create_model("reg_kwargs_tiny", num_classes=2, width=5)[0].out_channels == 5


def test_num_classes_is_not_a_size_knob():
    assert "num_classes" not in model_info("tsn_tiny").accepted_args()
    assert model_info("tsn_tiny").accepted_args() >= {"width"}


def test_list_models_with_globs():
    every = list_models()
    assert every == sorted(every)
    for pattern in ("*_tiny", "r*_18", "tsn_*", "nothing*"):
        matched = list_models(pattern)
        assert matched == sorted(n for n in every if fnmatch.fnmatchcase(n, pattern))
    assert list_models(["tsn_*", "c3d_*"]) == sorted(set(list_models("tsn_*")) | set(list_models("c3d_*")))
    assert {"tsn_tiny", "c3d_tiny", "lrcn_tiny", "timesformer_tiny"} <= set(list_models("*_tiny"))
    assert {"r3d_18", "r2plus1d_18"} <= set(list_models("r*_18"))


def test_list_models_by_family_partitions_the_registry():
    by_family = {f: list_models(family=f) for f in FAMILIES}
    assert sorted(n for names in by_family.values() for n in names) == list_models()
    for family, names in by_family.items():
        assert all(model_info(n).family == family for n in names)
    assert "lrcn_tiny" in list_models("*_tiny", family="cnn_rnn")
    assert "tsn_tiny" not in list_models("*_tiny", family="cnn_rnn")
    assert list_models("r3d_*", family="transformer") == []


def test_limits_may_depend_on_the_args(isolated_registries):
    @register_model(family="transformer", limits=lambda a: InputLimits(size_multiple=a.get("patch", 4)))
    def reg_patchy(num_classes: int = 400, patch: int = 4):
        return _head(num_classes)

    info = model_info("reg_patchy")
    assert info.input_limits().size_multiple == 4
    assert info.input_limits({"patch": 16}).size_multiple == 16
    assert info.input_limits({"patch": 16}).violation(8, 40, 40) is not None
    assert info.input_limits({"patch": 16}).violation(8, 48, 32) is None


@pytest.mark.parametrize(
    ("limits", "shape", "needle"),
    [
        (InputLimits(fixed_frames=16), (8, 32, 32), "clip_length 8"),
        (InputLimits(min_frames=4), (2, 32, 32), "clip_length 2"),
        (InputLimits(frame_multiple=4), (6, 32, 32), "clip_length 6"),
        (InputLimits(fixed_size=(224, 224)), (8, 112, 112), "resolution 112x112"),
        (InputLimits(min_size=32), (8, 16, 64), "resolution 16x64"),
        (InputLimits(size_multiple=16), (8, 32, 40), "resolution 32x40"),
    ],
)
def test_input_limits_name_the_violated_value(limits, shape, needle):
    problem = limits.violation(*shape)
    assert problem is not None and needle in problem


@pytest.mark.parametrize(
    ("limits", "shape"),
    [
        (InputLimits(), (1, 1, 1)),
        (InputLimits(fixed_frames=16), (16, 32, 32)),
        (InputLimits(min_frames=4), (4, 32, 32)),
        (InputLimits(frame_multiple=4), (8, 32, 32)),
        (InputLimits(fixed_size=(224, 224)), (8, 224, 224)),
        (InputLimits(min_size=32), (8, 32, 64)),
        (InputLimits(size_multiple=16), (8, 32, 48)),
    ],
)
def test_input_limits_accept_valid_shapes(limits, shape):
    assert limits.violation(*shape) is None
