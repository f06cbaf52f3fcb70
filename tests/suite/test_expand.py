"""Grid expansion (the product of the axes, minus `exclude`) and the admission every run of a suite passes
(`vidbench.admission.admit_suite`: what `vidbench run` runs). `expand()` below expands and admits."""

from __future__ import annotations

import json
import math

import pytest

from vidbench.admission import admit, admit_suite
from vidbench.errors import SuiteError
from vidbench.models import list_models
from vidbench.suite.expand import expand_suite
from vidbench.suite.schema import parse_suite
from vidbench.suite.spec import RunSpec


def expand(**kw) -> list[RunSpec]:
    return admit_suite(parse_suite({"name": "t", "models": ["tsn_tiny"], **kw}))


def expand_error(**kw) -> str:
    with pytest.raises(SuiteError) as info:
        expand(**kw)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_grid_size_is_the_product_of_the_axes():
    axes = dict(
        models=["tsn_tiny", "c3d_tiny"], resolutions=[32, 48, [32, 48]], clip_lengths=[4, 8],
        batch_sizes=[1, 2], devices=["cpu", "cuda"], precisions=["fp32", "bf16"], frame_strides=[1, 2],
        compile=[False, True],
    )
    specs = expand(**axes, metrics=["params"])
    assert len(specs) == math.prod(len(v) for v in axes.values())
    assert len({s.run_id for s in specs}) == len(specs)
    combos = {(s.model, s.resolution, s.clip_length, s.batch_size, s.device, s.precision, s.frame_stride, s.compile)
              for s in specs}
    assert len(combos) == len(specs)
    assert {s.resolution for s in specs} == {(32, 32), (48, 48), (32, 48)}


def test_datasets_are_an_axis_and_their_args_reach_the_spec():
    specs = expand(datasets=[{"name": "random", "args": {"num_classes": 3}},
                             {"name": "synthetic-motion", "grid": {"num_classes": [2, 4]}}])
    assert sorted((s.dataset, s.dataset_args["num_classes"]) for s in specs) == [
        ("random", 3), ("synthetic-motion", 2), ("synthetic-motion", 4)]


def test_model_args_and_grid():
    specs = expand(models=[{"name": "timesformer_tiny", "args": {"depth": 1},
                            "grid": {"attention": ["divided", "joint", "space_only"], "dim": [32, 64]}}],
                   resolutions=[32])
    assert len(specs) == 6
    assert all(s.model_args["depth"] == 1 for s in specs)
    assert sorted((s.model_args["attention"], s.model_args["dim"]) for s in specs) == sorted(
        (a, d) for a in ("divided", "joint", "space_only") for d in (32, 64))


def test_model_globs_expand_to_every_matching_registered_model():
    specs = expand(models=["ts?_tiny", "c3d_tiny"], resolutions=[32], clip_lengths=[8])
    assert sorted(s.model for s in specs) == sorted([*list_models("ts?_tiny"), "c3d_tiny"])
    assert "tsn_tiny" in list_models("ts?_tiny")


def test_specs_carry_family_and_arch_from_the_registry():
    specs = expand(models=["tsn_tiny", "lrcn_tiny", "timesformer_tiny"], resolutions=[32])
    assert {s.model: (s.family, s.arch) for s in specs} == {  # README's model table
        "tsn_tiny": ("cnn", "tsn"), "lrcn_tiny": ("cnn_rnn", "lrcn"),
        "timesformer_tiny": ("transformer", "timesformer"),
    }


def test_list_valued_train_keys_become_axes():
    specs = expand(metrics=["accuracy"], train={"lr": [1e-3, 3e-3], "epochs": [1, 2], "optimizer": "sgd"})
    assert sorted((s.train["lr"], s.train["epochs"]) for s in specs) == [(1e-3, 1), (1e-3, 2), (3e-3, 1), (3e-3, 2)]
    assert all(s.train["optimizer"] == "sgd" for s in specs)


def test_exclude_with_axis_values_and_globs():
    specs = expand(models=["tsn_tiny", "c3d_tiny", "lrcn_tiny"], clip_lengths=[4, 8], resolutions=[32],
                   exclude=[{"model": "c3d_*", "clip_length": 8}, {"model": "lrcn_tiny"}])
    assert sorted((s.model, s.clip_length) for s in specs) == [("c3d_tiny", 4), ("tsn_tiny", 4), ("tsn_tiny", 8)]


def test_exclude_glob_on_device():
    specs = expand(devices=["cpu", "cuda", "cuda:1"], exclude=[{"device": "cuda*"}], metrics=["params"])
    assert [s.device for s in specs] == ["cpu"]


def test_exclude_resolution_int_means_square_and_pair_means_that_pair():
    specs = expand(resolutions=[32, 48, [32, 48]], exclude=[{"resolution": 32}], metrics=["params"])
    assert sorted(s.resolution for s in specs) == [(32, 48), (48, 48)]
    specs = expand(resolutions=[32, [32, 48]], exclude=[{"resolution": [32, 48]}], metrics=["params"])
    assert [s.resolution for s in specs] == [(32, 32)]


def test_exclude_resolution_by_its_label_or_glob():
    specs = expand(resolutions=[32, [32, 48]], exclude=[{"resolution": "32x48"}], metrics=["params"])
    assert [s.resolution for s in specs] == [(32, 32)]
    specs = expand(resolutions=[32, 48], exclude=[{"resolution": "3*"}], metrics=["params"])
    assert [s.resolution for s in specs] == [(48, 48)]


def test_exclude_by_model_arg():
    specs = expand(models=[{"name": "timesformer_tiny", "grid": {"attention": ["divided", "joint", "space_only"]}}],
                   resolutions=[32], exclude=[{"args.attention": "*t"}])  # joint
    assert sorted(s.model_args["attention"] for s in specs) == ["divided", "space_only"]


def test_exclude_by_dataset_arg():
    specs = expand(datasets=[{"name": "random", "grid": {"num_classes": [2, 3, 4]}}],
                   exclude=[{"dataset_args.num_classes": 3}])
    assert sorted(s.dataset_args["num_classes"] for s in specs) == [2, 4]


def test_exclude_by_train_key():
    specs = expand(metrics=["accuracy"], train={"lr": [1e-3, 3e-3], "optimizer": ["adamw", "sgd"]},
                   exclude=[{"train.optimizer": "sgd", "train.lr": 3e-3}])
    assert sorted((s.train["optimizer"], s.train["lr"]) for s in specs) == [
        ("adamw", 1e-3), ("adamw", 3e-3), ("sgd", 1e-3)]


@pytest.mark.parametrize("key", ["modell", "train.lrr", "argz.width", "foo.bar", "args", "resolutions"])
def test_unknown_exclude_keys_are_errors(key):
    message = expand_error(exclude=[{key: 1}])
    assert f"exclude[0].{key}" in message and "unknown key" in message


def test_an_empty_exclude_rule_is_an_error():
    assert "exclude[0]" in expand_error(exclude=[{}])


def test_excluding_everything_is_an_error():
    assert "no runs" in expand_error(exclude=[{"model": "*"}])


def test_unknown_model_suggests_the_closest_name():
    message = expand_error(models=["tsn_tiny", "c3d_tinny"])
    assert "models[1]" in message and "'c3d_tinny'" in message
    assert "did you mean 'c3d_tiny'" in message


def test_a_glob_matching_nothing_is_an_error():
    assert "'zzz_*'" in expand_error(models=["zzz_*"])


def test_unknown_dataset_is_an_error():
    message = expand_error(datasets=["synthetic-moton"])
    assert "datasets[0]" in message and "'synthetic-moton'" in message
    assert "did you mean 'synthetic-motion'" in message


def test_an_arg_the_builder_does_not_take_is_an_error():
    message = expand_error(models=[{"name": "tsn_tiny", "args": {"widht": 8}}])
    assert "models[0]" in message and "'widht'" in message and "width" in message


def test_a_grid_arg_the_builder_does_not_take_is_an_error():
    assert "'depht'" in expand_error(models=[{"name": "timesformer_tiny", "grid": {"depht": [1, 2]}}])


def test_a_dataset_arg_the_builder_does_not_take_is_an_error():
    message = expand_error(datasets=[{"name": "synthetic-motion", "args": {"num_clases": 3}}])
    assert "datasets[0]" in message and "'num_clases'" in message


def test_clip_settings_are_not_dataset_args():
    # The runner sets clip_length from the axis; a dataset arg cannot override it.
    assert "'clip_length'" in expand_error(datasets=[{"name": "synthetic-motion", "args": {"clip_length": 3}}])


def test_an_impossible_combination_names_model_and_value():
    message = expand_error(models=[{"name": "timesformer_tiny", "args": {"patch_size": 8}}], resolutions=[32, 36])
    assert "'timesformer_tiny'" in message
    assert "36" in message and "8" in message


def test_an_impossible_combination_under_the_default_patch_size():
    message = expand_error(models=["timesformer_tiny"], resolutions=[36])
    assert "'timesformer_tiny'" in message and "36" in message


def test_min_clip_length_is_checked():
    message = expand_error(models=["c3d_tiny"], clip_lengths=[2], resolutions=[32])
    assert "'c3d_tiny'" in message and "clip_length 2" in message


def test_an_excluded_impossible_combination_is_fine():
    specs = expand(models=[{"name": "timesformer_tiny", "grid": {"patch_size": [4, 8]}}], resolutions=[36],
                   exclude=[{"args.patch_size": 8}])
    assert [s.model_args["patch_size"] for s in specs] == [4]


def test_run_ids_are_stable_across_expansions():
    kw = dict(models=["tsn_tiny", "c3d_tiny"], resolutions=[32, 48], clip_lengths=[4, 8])
    assert [s.run_id for s in expand(**kw)] == [s.run_id for s in expand(**kw)]


def test_run_id_ignores_the_order_args_and_metrics_are_written_in():
    a = expand(models=[{"name": "tsn_tiny", "args": {"width": 8, "dropout": 0.1}}], metrics=["params", "flops"])
    b = expand(models=[{"name": "tsn_tiny", "args": {"dropout": 0.1, "width": 8}}], metrics=["flops", "params"])
    assert a[0].run_id == b[0].run_id


RUN_ID_BASE = dict(resolutions=[32], clip_lengths=[4], batch_sizes=[2],
                   metrics=["params", "flops", "accuracy", "latency"])  # train and benchmark both matter


@pytest.mark.parametrize(
    "change",
    [
        dict(resolutions=[48]), dict(resolutions=[[32, 48]]), dict(clip_lengths=[8]), dict(batch_sizes=[4]),
        dict(precisions=["bf16"]), dict(seed=1), dict(frame_strides=[2]), dict(compile=[True]),
        dict(devices=["cuda"]), dict(metrics=[*RUN_ID_BASE["metrics"], "memory"]),
        dict(models=[{"name": "tsn_tiny", "args": {"width": 8}}]),
        dict(datasets=[{"name": "random", "args": {"num_classes": 3}}]),
        dict(train={"lr": 0.5}), dict(train={"schedule": "cosine"}), dict(train={"warmup_epochs": 0.5}),
        dict(benchmark={"repeats": 7}),
    ],
)
def test_run_id_changes_with_a_figure_relevant_field(change):
    (a,) = expand(**RUN_ID_BASE)
    (b,) = expand(**{**RUN_ID_BASE, **change})
    assert a.run_id != b.run_id


def test_train_settings_do_not_split_runs_that_neither_train_nor_time_training():
    speed = expand(metrics=["params", "flops", "latency"], train={"lr": [1e-3, 3e-3], "epochs": [1, 2]})
    assert len(speed) == 1
    (other,) = expand(metrics=["params", "flops", "latency"], train={"lr": 0.5})
    assert other.run_id == speed[0].run_id
    trained = expand(metrics=["params", "accuracy"], train={"lr": [1e-3, 3e-3], "epochs": [1, 2]})
    assert len(trained) == 4
    timed_training = expand(metrics=["train_throughput"], train={"lr": [1e-3, 3e-3]})
    assert len(timed_training) == 2


def test_benchmark_settings_only_matter_to_timed_metrics():
    (a,) = expand(metrics=["params", "accuracy"], benchmark={"repeats": 3})
    (b,) = expand(metrics=["params", "accuracy"], benchmark={"repeats": 30})
    assert a.run_id == b.run_id
    (c,) = expand(metrics=["throughput"], benchmark={"repeats": 3})
    (d,) = expand(metrics=["throughput"], benchmark={"repeats": 30})
    assert c.run_id != d.run_id


def test_run_id_survives_a_json_round_trip():
    for spec in expand(models=["tsn_tiny", {"name": "timesformer_tiny", "args": {"dim": 32}}],
                       resolutions=[32, [32, 48]]):
        again = RunSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
        assert again == spec
        assert again.run_id == spec.run_id
        assert again.resolution_label == ("32" if spec.resolution == (32, 32) else "32x48")


KNOWN_SPEC = dict(model="timesformer_tiny", model_args={"attention": "joint", "depth": 2}, dataset="random",
                  dataset_args={"num_classes": 4}, resolution=(32, 48), clip_length=8, frame_stride=2,
                  batch_size="auto", device="cpu", precision="fp32", compile=False, metrics=("params", "flops"),
                  train={"lr": 0.001, "epochs": 1}, benchmark={"warmup": 1, "repeats": 3}, seed=0,
                  family="transformer", arch="timesformer")


@pytest.mark.parametrize("metrics, run_id", [
    (("params", "flops"), "7b6686f15231fb43"),
    (("latency", "params"), "4e91cdaea987015a"),
    (("accuracy", "throughput", "memory"), "64ddb3216e59d745"),
])
def test_run_ids_keep_their_known_values(metrics, run_id):
    """Resume finds stored runs by run_id: the hash of an identity must never change between versions."""
    spec = RunSpec(**{**KNOWN_SPEC, "metrics": metrics})
    assert spec.run_id == run_id
    assert spec.run_id == run_id  # cached after the first time
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))).run_id == run_id


def test_train_keys_at_their_neutral_value_keep_the_run_ids_of_specs_written_before_them():
    """schedule and warmup_epochs were added after stores existed: at constant/0 they train as before,
    so a spec holding them has the run_id of the same spec without them."""
    (spec,) = expand(**RUN_ID_BASE)
    assert spec.train["schedule"] == "constant" and spec.train["warmup_epochs"] == 0
    older = {k: v for k, v in spec.train.items() if k not in ("schedule", "warmup_epochs")}
    assert RunSpec(**{**spec.to_dict(), "train": older}).run_id == spec.run_id
    known = RunSpec(**{**KNOWN_SPEC, "metrics": ("accuracy",),
                       "train": {**KNOWN_SPEC["train"], "schedule": "constant", "warmup_epochs": 0.0}})
    assert known.run_id == RunSpec(**{**KNOWN_SPEC, "metrics": ("accuracy",)}).run_id


def test_to_dict_copies_unless_told_not_to():
    spec = RunSpec(**KNOWN_SPEC)
    assert spec.to_dict() == spec.to_dict(copy=False)
    assert spec.to_dict()["train"] is not spec.train and spec.to_dict(copy=False)["train"] is spec.train


def test_a_missing_weights_file_names_the_model_the_key_and_the_value():
    message = expand_error(models=[{"name": "c3d_tiny", "args": {"weights": "/no/such/checkpoint.pt"}}],
                           metrics=["params"])
    assert "'c3d_tiny'" in message and "weights" in message and "/no/such/checkpoint.pt" in message


# -- expansion apart from admission ---------------------------------------------------------------------
def test_expansion_alone_multiplies_and_admission_refuses():
    suite = parse_suite({"name": "t", "models": ["timesformer_tiny"], "resolutions": [32, 36]})
    specs = expand_suite(suite)  # no limits checked: both resolutions are combinations of the grid
    assert [s.resolution for s in specs] == [(32, 32), (36, 36)]
    assert admit(specs[0]) is None
    refusal = admit(specs[1])
    assert refusal and "'timesformer_tiny'" in refusal and "36" in refusal and "exclude" in refusal
    with pytest.raises(SuiteError, match="36") as info:
        admit_suite(suite)
    assert str(info.value) == refusal


def test_admission_refuses_a_hand_made_spec_without_a_suite():
    from tests.conftest import make_spec

    assert admit(make_spec()) is None
    assert "clip_length 2" in admit(make_spec("c3d_tiny", clip_length=2, resolution=(32, 32)))
    assert admit(make_spec(runtime="export", batch_size="auto")).startswith("model 'tsn_tiny' on cpu: ")
    missing = admit(make_spec("c3d_tiny", model_args={"weights": "/no/such/checkpoint.pt"}, resolution=(32, 32)))
    assert "'c3d_tiny'" in missing and "/no/such/checkpoint.pt" in missing


def test_expansion_imports_no_backend_and_nothing_of_run():
    import ast
    from pathlib import Path

    import vidbench.suite

    for path in Path(vidbench.suite.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("vidbench.backends", "vidbench.run", "vidbench.admission")), (
                    f"{path.name} imports {name}")


def test_published_views_a_dataset_cannot_take_are_refused_at_admission():
    kw = dict(models=[{"name": "x3d_m", "test_views": "published"}], datasets=["synthetic-motion"],
              metrics=["params"])
    assert expand_error(**kw) == ("models[0] 'x3d_m': protocol: published needs test_clips and test_crops, "
                                  "which dataset 'synthetic-motion' does not take")
    from tests.conftest import make_spec  # a hand-made spec no suite checked is refused at admission too

    spec = make_spec("x3d_m", dataset="synthetic-motion", dataset_args={"test_clips": 10, "test_crops": 3})
    assert admit(spec) == ("model 'x3d_m': published views need test_clips and test_crops, which dataset "
                                 "'synthetic-motion' does not take")
