"""The suite schema: unknown keys and bad values are one-line SuiteErrors naming the key."""

from __future__ import annotations

import textwrap

import pytest
from pydantic import ValidationError

from vidbench.errors import SuiteError
from vidbench.suite.schema import METRICS, Suite, load_suite, parse_suite


def suite(**kw):
    return {"name": "t", "models": ["tsn_tiny"], **kw}


def suite_error(data, source="s.yaml") -> str:
    with pytest.raises(SuiteError) as info:
        parse_suite(data, source)
    message = str(info.value)
    assert "\n" not in message, "a suite error is one line"
    assert message.startswith(source), "a suite error names its source"
    return message


@pytest.mark.parametrize(
    ("data", "path", "suggestion"),
    [
        (suite(resolutons=[32]), "resolutons", "resolutions"),
        (suite(clip_length=[8]), "clip_length", "clip_lengths"),
        (suite(train={"lrr": 1e-3}), "train.lrr", "lr"),
        (suite(benchmark={"warmpu": 1}), "benchmark.warmpu", "warmup"),
        (suite(limits={"timeout": 5}), "limits.timeout", "timeout_s"),
        (suite(models=[{"name": "tsn_tiny", "argz": {"width": 8}}]), "models[0].argz", "args"),
        (suite(datasets=[{"name": "random", "gird": {"num_classes": [2]}}]), "datasets[0].gird", "grid"),
    ],
)
def test_unknown_key_names_its_path_and_suggests_the_closest(data, path, suggestion):
    message = suite_error(data)
    assert f"{path}: unknown key" in message
    assert f"did you mean {suggestion!r}" in message


def test_unknown_key_without_a_close_match_gives_no_suggestion():
    message = suite_error(suite(zzzzqqqq=1))
    assert "zzzzqqqq: unknown key" in message
    assert "did you mean" not in message


@pytest.mark.parametrize(
    ("data", "key", "value"),
    [
        (suite(resolutions=[0]), "resolutions[0]", "0"),
        (suite(resolutions=[[32, -4]]), "resolutions[0]", "-4"),
        (suite(train={"lr": -1.0}), "train.lr", "-1.0"),
        (suite(train={"lr": [1e-3, -0.5]}), "train.lr[1]", "-0.5"),
        (suite(train={"epochs": 0}), "train.epochs", "0"),
        (suite(train={"optimizer": "lamb"}), "train.optimizer", "'lamb'"),
        (suite(train={"schedule": "step"}), "train.schedule", "'step'"),
        (suite(train={"warmup_epochs": -1}), "train.warmup_epochs", "-1"),
        (suite(devices=["gpu"]), "devices", "'gpu'"),
        (suite(devices=["cuda:x"]), "devices", "'cuda:x'"),
        (suite(precisions=["fp8"]), "precisions[0]", "'fp8'"),
        (suite(metrics=["acc"]), "metrics[0]", "'acc'"),
        (suite(models=[]), "models", "[]"),
        (suite(clip_lengths=[]), "clip_lengths", "[]"),
        (suite(batch_sizes=[0]), "batch_sizes[0]", "0"),
        (suite(benchmark={"repeats": 0}), "benchmark.repeats", "0"),
        (suite(limits={"timeout_s": 0}), "limits.timeout_s", "0"),
        (suite(devices=["cpu", "cpu"]), "devices", "'cpu'"),
        (suite(name="has space"), "name", "'has space'"),
    ],
)
def test_bad_value_is_a_one_line_error_naming_key_and_value(data, key, value):
    message = suite_error(data)
    assert key in message
    assert value in message


def test_a_grid_arg_that_is_also_fixed_is_an_error():
    message = suite_error(suite(models=[{"name": "tsn_tiny", "args": {"width": 8}, "grid": {"width": [8, 16]}}]))
    assert "models[0].grid" in message and "'width'" in message


def test_missing_required_key_is_named():
    data = suite()
    del data["models"]
    assert "models: required key is missing" in suite_error(data)


def test_a_suite_must_be_a_mapping():
    assert "mapping" in suite_error([1, 2])


def test_misspelt_required_key_is_reported_as_unknown_with_a_suggestion():
    message = suite_error({"name": "t", "modles": ["tsn_tiny"]})
    assert "modles: unknown key" in message
    assert "did you mean 'models'" in message


def test_scalar_train_values_become_lists_and_defaults_fill_in():
    s = parse_suite(suite(train={"epochs": 2, "lr": 0.01, "optimizer": "sgd"}))
    assert s.train.epochs == [2]
    assert s.train.lr == [0.01]
    assert s.train.optimizer == ["sgd"]
    assert len(s.train.weight_decay) == 1 and len(s.train.batch_size) == 1  # defaults are one-value lists
    assert s.train.schedule == ["constant"] and s.train.warmup_epochs == [0]


def test_list_train_values_stay_lists():
    s = parse_suite(suite(train={"lr": [1e-3, 3e-3]}))
    assert s.train.lr == [1e-3, 3e-3]


def test_resolutions_accept_ints_and_height_width_pairs():
    s = parse_suite(suite(resolutions=[32, [32, 48]]))
    assert s.resolutions == [(32, 32), (32, 48)]


def test_model_and_dataset_entries_accept_plain_names():
    s = parse_suite(suite(models=["tsn_tiny", {"name": "c3d_tiny", "args": {"width": 8}}], datasets=["random"]))
    assert [(e.name, e.args) for e in s.models] == [("tsn_tiny", {}), ("c3d_tiny", {"width": 8})]
    assert [e.name for e in s.datasets] == ["random"]


def test_defaults_ask_for_every_model_metric():
    # data_throughput measures the input pipeline, not the model, energy needs a device counter (and a second
    # of samples per loop), knn a frozen encoder's features: each asked for explicitly (metrics.OPT_IN), so
    # suites that list no metrics keep their run ids.
    from vidbench import metrics

    assert {"data_throughput", "energy", "knn"} <= set(metrics.OPT_IN)
    assert parse_suite(suite()).metrics == [m for m in METRICS if m not in metrics.OPT_IN]


def test_suite_is_frozen():
    s = parse_suite(suite())
    with pytest.raises(ValidationError, match="frozen"):
        s.name = "other"  # type: ignore[misc]


def test_load_suite_reads_yaml(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("name: ok\nmodels: [tsn_tiny]\nresolutions: [32, [32, 48]]\ntrain: {lr: 0.01}\n")
    s = load_suite(path)
    assert isinstance(s, Suite)
    assert s.resolutions == [(32, 32), (32, 48)]
    assert s.train.lr == [0.01]


def test_malformed_yaml_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(textwrap.dedent("""\
        name: broken
        models: [tsn_tiny
        resolutions: [32]
        """))
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    message = str(info.value)
    assert str(path) in message
    assert f"{path}:3:" in message  # the parser notices on line 3 (1-based)
    assert "malformed YAML" in message
    assert "\n" not in message


def test_tab_indentation_is_malformed_yaml_on_its_line(tmp_path):
    path = tmp_path / "tabs.yaml"
    path.write_text("name: t\n\tmodels: [tsn_tiny]\n")
    with pytest.raises(SuiteError, match=r"tabs\.yaml:2:"):
        load_suite(path)


def test_schema_errors_from_a_file_name_the_file(tmp_path):
    path = tmp_path / "typo.yaml"
    path.write_text("name: t\nmodels: [tsn_tiny]\nresolutons: [32]\n")
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    assert str(info.value).startswith(str(path))
    assert "resolutons: unknown key (did you mean 'resolutions'?)" in str(info.value)


def test_missing_file_is_a_suite_error(tmp_path):
    with pytest.raises(SuiteError, match="cannot read suite file"):
        load_suite(tmp_path / "nope.yaml")
