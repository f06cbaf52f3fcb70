"""Transfer protocols (linear probe, partial fine-tuning, layer-wise learning-rate decay), each model's
declared stages, the accuracy curve, saved weights, and the protocol's errors before any run."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader

from tests.conftest import make_spec
from vidbench.admission import admit_suite
from vidbench.data import create_dataset
from vidbench.errors import SuiteError
from vidbench.measure.flops import profile_model
from vidbench.measure.protocols import transfer_plan
from vidbench.measure.training import make_optimizer, train_epochs
from vidbench.models import create_model, list_models, model_info
from vidbench.models.stages import in_stage, model_stages
from vidbench.run.runner import execute
from vidbench.admission import admit_suite
from vidbench.suite import expand_suite, parse_suite

TRAIN = {"epochs": 2, "optimizer": "adamw", "lr": 1e-2, "weight_decay": 0.0, "momentum": 0.9, "batch_size": 4}


@pytest.mark.parametrize("name", list_models())
def test_every_model_declares_stages_that_partition_its_backbone(name):
    info = model_info(name)
    with torch.device("meta"):
        model = create_model(name, num_classes=10)
    stages = model_stages(name, model)
    assert len(stages) >= 1 and all(stages)
    for param, _ in model.named_parameters():
        owners = sum(in_stage(param, stage) for stage in stages)
        assert owners <= 1, param
        if in_stage(param, info.head):
            assert owners == 0, f"{param} is both head and stage"
    first = next(n for n, _ in model.named_parameters())
    assert in_stage(first, stages[0]), "the first stage holds the input's first parameters"


def _loader():
    data = create_dataset("random", clip_length=4, resolution=(16, 16), num_classes=4, train_size=8, val_size=4)
    return DataLoader(data.train, batch_size=4)


def test_a_linear_probe_trains_the_head_only_and_keeps_the_rest_in_eval_mode():
    model = create_model("c3d_tiny", num_classes=4)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    plan = transfer_plan(model, "c3d_tiny", {**TRAIN, "protocol": "linear_probe"})
    head = model_info("c3d_tiny").head
    assert all(p.requires_grad == in_stage(n, head) for n, p in model.named_parameters())
    assert plan.trainable == sum(p.numel() for n, p in model.named_parameters() if in_stage(n, head))
    plan.train_mode(model)
    assert all(not m.training for n, m in model.named_modules() if n and not in_stage(n, head))
    assert model.get_submodule(head[0]).training
    train_epochs(model, _loader(), TRAIN, torch.device("cpu"), "fp32", params=plan.param_groups,
                 train_mode=plan.train_mode)
    after = model.state_dict()
    changed = {k for k in after if not torch.equal(after[k], before[k])}
    assert changed == {k for k in after if in_stage(k, head)}  # running BN statistics unchanged too


def test_partial_freezes_the_first_stages_and_their_batch_norm():
    model = create_model("tsm_tiny", num_classes=4)
    stages = model_stages("tsm_tiny", model)
    plan = transfer_plan(model, "tsm_tiny", {**TRAIN, "protocol": "partial", "freeze": 2})
    for name, p in model.named_parameters():
        assert p.requires_grad == (not any(in_stage(name, s) for s in stages[:2])), name
    plan.train_mode(model)
    assert not model.get_submodule(stages[0][0]).training and model.get_submodule(stages[2][0]).training
    assert plan.frozen > 0 and plan.trainable > 0


def test_layer_decay_scales_each_stage_by_its_depth():
    model = create_model("timesformer_tiny", num_classes=4)
    stages = model_stages("timesformer_tiny", model)  # embedding, block 0, block 1
    plan = transfer_plan(model, "timesformer_tiny", {**TRAIN, "layer_decay": 0.5})
    lr_of = {id(p): g["lr"] for g in plan.param_groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert lr_of[id(named["head.weight"])] == pytest.approx(1e-2)
    assert lr_of[id(named["blocks.1.attn.qkv.weight"])] == pytest.approx(1e-2 * 0.5)
    assert lr_of[id(named["blocks.0.attn.qkv.weight"])] == pytest.approx(1e-2 * 0.25)
    assert lr_of[id(named["patch_embed.weight"])] == pytest.approx(1e-2 * 0.5 ** len(stages))
    optimizer = make_optimizer(plan.param_groups, TRAIN)
    assert sorted({g["lr"] for g in optimizer.param_groups}) == sorted({g["lr"] for g in plan.param_groups})


def test_a_probe_counts_the_training_flops_it_spends():
    """Frozen layers need no weight gradients: a linear probe's training step costs far less than full
    fine-tuning, and the count says so."""
    full = profile_model("c3d_tiny", 4, {}, 4, 16, 16)
    probe = profile_model("c3d_tiny", 4, {}, 4, 16, 16, prepare_train=lambda m: transfer_plan(
        m, "c3d_tiny", {**TRAIN, "protocol": "linear_probe"}).train_mode(m))
    assert full.macs == probe.macs
    assert probe.macs <= probe.train_macs < 0.5 * full.train_macs


def test_the_accuracy_curve_best_top1_and_training_cost(tmp_path):
    spec = make_spec("c3d_tiny", dataset="synthetic-motion", metrics=("accuracy",), resolution=(16, 16),
                     dataset_args={"num_classes": 4, "train_size": 16, "val_size": 8},
                     train={**TRAIN, "epochs": 3, "eval_every": 1, "protocol": "linear_probe", "save_weights": True})
    result = execute(spec, tmp_path)
    assert result.status == "ok", result.error
    curve, m = result.detail["curve"], result.metrics
    assert [c["epoch"] for c in curve] == [1, 2, 3] and all(c["top1"] is not None for c in curve)
    assert all(a["seconds"] < b["seconds"] and a["pflops"] < b["pflops"] for a, b in zip(curve, curve[1:]))
    assert m["best_top1"] == max(c["top1"] for c in curve) and curve[m["best_epoch"] - 1]["top1"] == m["best_top1"]
    assert m["top1"] == curve[-1]["top1"] and m["train_s"] == curve[-1]["seconds"]
    assert m["train_pflops"] == pytest.approx(curve[-1]["pflops"]) and m["train_pflops"] > 0
    transfer = result.detail["transfer"]
    assert transfer["trainable_params"] < transfer["frozen_params"]
    saved = tmp_path / "weights" / f"{spec.run_id}.pt"
    assert result.detail["saved_weights"] == str(saved) and saved.is_file()
    # Round trip: the saved weights load into the same model (another class count re-initialises the head).
    reloaded = create_model("c3d_tiny", num_classes=4, weights=str(saved))
    state = torch.load(saved, weights_only=True)
    assert all(torch.equal(reloaded.state_dict()[k], v) for k, v in state.items())
    other = create_model("c3d_tiny", num_classes=7, weights=str(saved))
    assert other.get_submodule(model_info("c3d_tiny").head[0]).out_features == 7


@pytest.mark.parametrize(("train", "message"), [
    ({"protocol": "partial", "freeze": 9}, "train.freeze = 9: the model has 4 stages"),
    ({"protocol": "partial"}, "train.freeze = 0"),
    ({"freeze": 1}, "freezing stages is the `partial` protocol"),
    ({"protocol": "linear_probe", "layer_decay": 0.7}, "not to a linear probe"),
])
def test_a_protocol_the_model_cannot_take_is_refused_before_any_run(train, message):
    suite = {"name": "t", "models": ["c3d_tiny"], "metrics": ["accuracy"], "train": train}
    with pytest.raises(SuiteError, match=message) as info:
        admit_suite(parse_suite(suite))
    assert "c3d_tiny" in str(info.value)
    with pytest.raises(SuiteError, match="train.protocol"):
        parse_suite({**suite, "train": {"protocol": "adapter"}})


def test_protocol_keys_at_their_neutral_values_keep_stored_run_ids():
    base = {"name": "t", "models": ["c3d_tiny"], "metrics": ["accuracy"], "train": {"epochs": 2}}
    (plain,) = expand_suite(parse_suite(base))
    (neutral,) = expand_suite(parse_suite({**base, "train": {"epochs": 2, "protocol": "full", "freeze": 0,
                                                            "layer_decay": 1.0, "eval_every": 0,
                                                            "save_weights": True}}))
    assert plain.run_id == neutral.run_id  # save_weights changes no figure; the rest are at their neutral value
    (probe,) = expand_suite(parse_suite({**base, "train": {"epochs": 2, "protocol": "linear_probe"}}))
    assert probe.run_id != plain.run_id
