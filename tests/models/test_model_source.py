"""A model source registers a table of models in one file, each with its stages and published results;
`train.freeze` and `layer_decay` read the stages from the registration, so a model whose arch is new to
vidbench trains `full` without declaring any and is refused, in one line, only where stages are needed."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from vidbench.errors import RegistryError
from vidbench.measure.protocols import transfer_plan
from vidbench.models import Published, create_model, list_models, model_info, register_model, register_table
from vidbench.models.published import no_published_reason, primary_result, published_results
from vidbench.models.stages import in_stage, model_stages
from vidbench.suite.plugins import import_plugins
from vidbench.suite.protocols import check_protocol

SOURCE = Path(__file__).parent / "data" / "model_source.py"
NAMES = ["source_stack_l", "source_stack_m", "source_stack_s"]
TRAIN = {"epochs": 1, "optimizer": "adamw", "lr": 1e-3, "weight_decay": 0.0, "momentum": 0.9, "batch_size": 2}


@pytest.fixture
def source(tmp_path, isolated_registries):
    """The model source loaded as a suite's plugin (a fresh path each time: plugins import once per path)."""
    shutil.copy(SOURCE, tmp_path / "model_source.py")
    import_plugins([str(tmp_path / "model_source.py")])
    return NAMES


def _spec(model: str, **train) -> SimpleNamespace:
    return SimpleNamespace(model=model, model_args={}, metrics=("accuracy",), train={**TRAIN, **train})


def test_a_config_table_registers_its_models_with_their_declarations(source):
    assert list_models("source_stack_*") == NAMES
    for name in NAMES:
        info = model_info(name)
        assert (info.family, info.arch, info.head) == ("cnn", "source_stack", ("head",))
        assert info.stages is not None
    assert model_info("source_stack_l").default_frames == 8  # a row's keyword overrides the table's
    assert [len(model_stages(n, create_model(n, num_classes=3))) for n in NAMES] == [4, 3, 2]
    assert create_model("source_stack_s", num_classes=3, widths=(2, 4)).head.in_features == 4  # config: an arg


def test_published_results_come_from_the_registration(source):
    assert [r.top1 for r in published_results("source_stack_m")] == [45.0, 47.5]
    assert primary_result("source_stack_s").source.endswith("4-frame row")
    assert no_published_reason("source_stack_m") is None
    assert published_results("source_stack_l") == ()
    assert no_published_reason("source_stack_l") == "the imagined zoo releases no L model"


@pytest.mark.parametrize("name", NAMES)
def test_freeze_one_freezes_exactly_the_first_stage(source, name):
    model = create_model(name, num_classes=3)
    plan = transfer_plan(model, name, {**TRAIN, "protocol": "partial", "freeze": 1})
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {n for n, _ in model.named_parameters() if in_stage(n, ("stem",))} == {"stem.weight", "stem.bias"}
    assert plan.frozen == sum(p.numel() for p in model.stem.parameters()) and plan.trainable > 0
    plan.train_mode(model)
    assert not model.stem.training and model.blocks.training


def test_the_protocol_check_counts_a_sources_stages(source):
    assert check_protocol(_spec("source_stack_m", protocol="partial", freeze=3)) is None
    assert "the model has 3 stages" in check_protocol(_spec("source_stack_m", protocol="partial", freeze=4))


README_PLUGIN = textwrap.dedent("""\
    import torch.nn as nn
    from vidbench import register_model
    from vidbench.models import InputLimits

    @register_model(family="cnn", arch="tiny3d", default_input=(8, 32), limits=InputLimits(min_size=8))
    def my_tiny3d(num_classes: int = 400, width: int = 8):
        return nn.Sequential(nn.Conv3d(3, width, 3, padding=1), nn.ReLU(),
                             nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(width, num_classes))
    """)


def test_the_readme_plugin_with_a_new_arch_trains_full_and_is_refused_partial_in_one_line(tmp_path,
                                                                                          isolated_registries):
    (tmp_path / "my_models.py").write_text(README_PLUGIN)
    import_plugins([str(tmp_path / "my_models.py")])
    model = create_model("my_tiny3d", num_classes=4)
    plan = transfer_plan(model, "my_tiny3d", TRAIN)  # issue 25: a KeyError on 'tiny3d' before
    assert plan.frozen == 0 and plan.trainable == sum(p.numel() for p in model.parameters())
    assert check_protocol(_spec("my_tiny3d")) is None
    for train in ({"protocol": "partial", "freeze": 1}, {"layer_decay": 0.5}):
        reason = check_protocol(_spec("my_tiny3d", **train))
        assert reason.startswith("model 'my_tiny3d' declares no stages") and "\n" not in reason
        with pytest.raises(RegistryError, match="'my_tiny3d' declares no stages"):
            transfer_plan(create_model("my_tiny3d", num_classes=4), "my_tiny3d", {**TRAIN, **train})


def test_a_variant_of_a_builtin_arch_takes_that_archs_stages(isolated_registries):
    from vidbench.models.cnn3d import c3d_tiny

    @register_model(family="cnn", arch="c3d", default_input=(8, 32))
    def my_c3d_variant(num_classes: int = 4):
        return c3d_tiny(num_classes=num_classes)

    with torch.device("meta"):
        model = create_model("my_c3d_variant", num_classes=4)
    assert model_stages("my_c3d_variant", model) == model_stages("c3d_tiny", model)


def test_results_and_a_reason_together_are_refused(isolated_registries):
    row = Published("Kinetics-400", 1.0, None, 4, 16, 1, 1, "none", "somewhere")
    with pytest.raises(RegistryError, match="not both"):
        register_table([{"name": "both_ways", "published": (row,), "no_published": "none"}],
                       builder=lambda num_classes=4: None, family="cnn")
