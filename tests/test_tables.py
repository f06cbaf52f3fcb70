"""The axis and metric tables (vidbench.axes, vidbench.metrics) and what reads them: one declaration per axis
and per stored figure, read by the schema, expansion, RunSpec, store, reports and compare."""

from __future__ import annotations

import sqlite3

import pytest

from tests.report.synthetic import write_store
from vidbench.axes import ALWAYS, AXES, EXCLUDE_KEYS, TRAIN_KEYS, train_identity
from vidbench.errors import SuiteError
from vidbench.metrics import COLUMNS, COMPARED_COLUMNS, MEASURE_NAMES, changed_by, columns_of, header
from vidbench.report.compare import compare_folders
from vidbench.store import STORE_NAME
from vidbench.store.record import EXTRA_METRIC_COLUMNS, METRIC_COLUMNS, RESULT_COLUMNS
from vidbench.admission import admit_suite
from vidbench.suite.schema import Suite, parse_suite
from vidbench.suite.spec import RunSpec


def expand(**kw) -> list[RunSpec]:
    return admit_suite(parse_suite({"name": "t", "models": ["tsn_tiny"], **kw}))


# -- the axis table --------------------------------------------------------------------------------
def test_every_axis_is_a_suite_key_a_spec_field_a_store_column_and_an_exclude_key():
    spec_fields = set(RunSpec.__dataclass_fields__)
    for axis in AXES:
        assert axis.suite_key in Suite.model_fields, axis.name
        assert axis.name in spec_fields and axis.name in RESULT_COLUMNS and axis.name in EXCLUDE_KEYS
        assert header(axis.name) == axis.header


def test_runspec_writes_out_one_typed_field_per_axis_in_the_tables_order():
    """RunSpec's fields are written out (an IDE finds `spec.runtime`); this holds them to the axis table, so an
    axis added without its field (or a field without its axis) fails here."""
    import dataclasses
    import typing

    from pydantic import TypeAdapter

    names = [f.name for f in dataclasses.fields(RunSpec)]
    entry = ["model", "model_args", "dataset", "dataset_args", "metrics", "train", "benchmark", "serving"]
    assert names == [*entry, *(a.name for a in AXES), "family", "arch", "suite_dir"]
    hints = typing.get_type_hints(RunSpec)
    by_name = {f.name: f for f in dataclasses.fields(RunSpec)}
    for axis in AXES:
        expected = axis.to_spec(axis.default[0]) if axis.left_out_at is ALWAYS else axis.left_out_at
        assert by_name[axis.name].default == expected, axis.name
        for value in (*axis.default, expected):  # the field's type takes the axis' values as RunSpec holds them
            spec_value = axis.to_spec(value)
            assert TypeAdapter(hints[axis.name]).validate_python(spec_value, strict=True) == spec_value, axis.name


def test_the_schema_takes_each_axis_default_and_validates_its_values():
    suite = parse_suite({"name": "t", "models": ["tsn_tiny"]})
    for axis in AXES:
        expected = [getattr(suite, axis.default_from)] if axis.default_from else list(axis.default)
        assert suite.axis_values(axis) == expected, axis.name
    with pytest.raises(SuiteError, match=r"seeds = \[1, 1\]: 1 is listed twice"):
        parse_suite({"name": "t", "models": ["tsn_tiny"], "seeds": [1, 1]})
    with pytest.raises(SuiteError, match=r"devices\[0\] = 'tpu': unknown device"):
        parse_suite({"name": "t", "models": ["tsn_tiny"], "devices": ["tpu"]})


# -- the seeds axis: added as one table entry ----------------------------------------------------------
def test_seeds_are_an_axis_of_replicates():
    specs = expand(seeds=[0, 1, 2], metrics=["params", "accuracy"])
    assert [s.seed for s in specs] == [0, 1, 2]
    assert len({s.run_id for s in specs}) == 3
    first = specs[0].to_dict()
    assert all({k: v for k, v in s.to_dict().items() if k != "seed"} == {k: v for k, v in first.items() if k != "seed"}
               for s in specs)
    assert [s.seed for s in expand(seeds=[0, 1, 2], exclude=[{"seed": 1}])] == [0, 2]


def test_the_single_seed_is_the_default_of_one_and_keeps_its_run_ids():
    assert [s.seed for s in expand(seed=7)] == [7]
    (single,) = expand(seed=7, metrics=["params"])
    (listed,) = expand(seeds=[7], metrics=["params"])
    assert single.run_id == listed.run_id
    # seeds: given, it wins over the single seed
    assert [s.seed for s in expand(seed=7, seeds=[1, 2])] == [1, 2]


def test_the_seed_is_a_store_column_and_older_stores_gain_it_from_their_specs(tmp_path):
    from tests.conftest import make_spec
    from vidbench.store import ResultStore, RunResult

    path = tmp_path / STORE_NAME
    with ResultStore(path) as store:
        spec = make_spec(seed=3)
        store.write(spec, RunResult(spec.run_id, "ok"))
        store._conn.execute("ALTER TABLE runs DROP COLUMN seed")  # as written before the seeds axis
    with ResultStore(path) as store:
        (row,) = store.rows()
    assert row["seed"] == 3 and row["spec"]["seed"] == 3


def test_memory_only_runs_with_different_optimizers_are_two_runs():
    """Issue 13's first defect: a training step's peak holds the optimizer state (AdamW keeps two tensors per
    weight, SGD with momentum one), so `memory` runs under sgd and adamw must not share a run id."""
    specs = expand(metrics=["memory"], train={"optimizer": ["sgd", "adamw"]})
    assert len({s.run_id for s in specs}) == 2
    assert {s.train["optimizer"] for s in specs} == {"sgd", "adamw"}
    # SGD's momentum buffer exists only with momentum: a second axis that changes memory.
    assert len(expand(metrics=["memory"], train={"optimizer": "sgd", "momentum": [0.0, 0.9]})) == 2
    # …while the keys memory does not read still collapse, and speed-only runs ignore every train key.
    assert len(expand(metrics=["memory"], train={"lr": [1e-3, 1e-2]})) == 1
    assert len(expand(metrics=["latency"], train={"optimizer": ["sgd", "adamw"]})) == 1


def test_memory_only_runs_at_the_default_optimizer_keep_their_stored_ids():
    """Ids computed by vidbench before the fix (3f7b997): memory-only runs at adamw (the default) are found
    by resume; memory with a trained metric always held the whole train block."""
    known = dict(model="timesformer_tiny", model_args={"attention": "joint", "depth": 2}, dataset="random",
                 dataset_args={"num_classes": 4}, resolution=(32, 48), clip_length=8, frame_stride=2,
                 batch_size="auto", device="cpu", precision="fp32", compile=False, metrics=("memory",),
                 train={"lr": 0.001, "epochs": 1}, benchmark={"warmup": 1, "repeats": 3}, seed=0)
    assert RunSpec(**known).run_id == "3f3c9677745825ab"
    adamw = {**known["train"], "optimizer": "adamw", "momentum": 0.9}
    assert RunSpec(**{**known, "train": adamw}).run_id == "3f3c9677745825ab"
    assert RunSpec(**{**known, "metrics": ("memory", "latency")}).run_id == "5f183fd19e0cf11e"
    assert RunSpec(**{**known, "train": {**adamw, "optimizer": "sgd"}}).run_id != "3f3c9677745825ab"


def test_train_identity_keeps_what_the_metrics_read():
    train = {k.name: k.default for k in TRAIN_KEYS}
    assert train_identity(train, {"params", "latency"}) == {}
    assert train_identity(train, {"memory"}) == {}
    assert train_identity({**train, "optimizer": "sgd", "lr": 0.1}, {"memory"}) == {"optimizer": "sgd"}
    trained = train_identity(train, {"accuracy"})
    assert set(trained) == {k.name for k in TRAIN_KEYS if k.left_out_at is ALWAYS}  # late keys left out at neutral
    assert "schedule" not in trained and "epochs" in trained
    assert train_identity({**train, "schedule": "cosine"}, {"accuracy"})["schedule"] == "cosine"


# -- the metric table ------------------------------------------------------------------------------
def test_every_stored_figure_has_a_direction_or_a_reason_it_is_not_compared():
    figures = set(METRIC_COLUMNS) | set(EXTRA_METRIC_COLUMNS)
    assert figures == {c.name for c in COLUMNS}
    for column in COLUMNS:
        assert (column.better in ("higher", "lower")) != bool(column.not_compared), column.name
        assert column.measure in MEASURE_NAMES, column.name
    assert {"data_throughput_clips_s", "clip_top1"} <= set(COMPARED_COLUMNS)  # issue 13's second defect


def test_every_metric_fills_columns_and_names_what_changes_it():
    for measure in MEASURE_NAMES:
        assert columns_of(measure), measure
    assert "train.optimizer" in changed_by("memory") and "train.lr" not in changed_by("memory")
    assert "benchmark" in changed_by("latency") and "benchmark" not in changed_by("params")
    assert "train.lr" in changed_by("accuracy")


@pytest.mark.parametrize(("column", "factor", "regressed"), [
    ("data_throughput_clips_s", 0.5, True),
    ("data_throughput_clips_s", 2.0, False),
    ("clip_top1", 0.5, True),
    ("clip_top1", 1.5, False),
])
def test_compare_flags_the_input_pipeline_and_clip_accuracy(tmp_path, column, factor, regressed):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        write_store(folder, variants=("tsn_tiny",), problems=False)
        with sqlite3.connect(folder / STORE_NAME) as conn:
            conn.execute(f"UPDATE runs SET {column} = 40.0")
    with sqlite3.connect(b / STORE_NAME) as conn:
        conn.execute(f"UPDATE runs SET {column} = {column} * ? WHERE rowid = 1", (factor,))
    rows = compare_folders(a, b, stats=False).rows  # one run a side: the threshold rule decides
    flagged = rows[(rows["metric"] == column) & rows["regression"]]
    assert len(flagged) == (1 if regressed else 0)
    assert len(rows[rows["metric"] == column]) == len(rows["run_id"].unique())


def test_a_model_entry_can_run_at_its_default_input():
    """`input: default` replaces the suite's clip axes by the model's default clip, so models whose
    natural inputs differ share one suite; the other models keep the axes."""
    from vidbench.models import model_info

    specs = expand(models=[{"name": "x3d_m", "input": "default"}, "tsn_tiny"],
                   resolutions=[32, 48], clip_lengths=[4, 8], metrics=["flops"])
    x3d = [s for s in specs if s.model == "x3d_m"]
    info = model_info("x3d_m")
    assert len(x3d) == 1 and x3d[0].resolution == (info.default_size,) * 2
    assert x3d[0].clip_length == info.default_frames and x3d[0].dataset_args == {}
    assert len([s for s in specs if s.model == "tsn_tiny"]) == 4
    with pytest.raises(SuiteError, match="input"):
        parse_suite({"name": "t", "models": [{"name": "x3d_m", "input": "native"}]})


def test_older_stores_read_compile_runs_as_the_inductor_runtime(tmp_path):
    from tests.conftest import make_spec
    from vidbench.store import ResultStore, RunResult

    path = tmp_path / STORE_NAME
    with ResultStore(path) as store:
        for compiled in (False, True):
            spec = make_spec(compile=compiled, runtime="inductor" if compiled else "eager")
            store.write(spec, RunResult(spec.run_id, "ok"))
        store._conn.execute("ALTER TABLE runs DROP COLUMN runtime")  # as written before the runtimes axis
        store._conn.execute("UPDATE runs SET spec_json = json_remove(spec_json, '$.runtime')")
    with ResultStore(path) as store:
        rows = store.rows()
    assert {(r["compile"], r["runtime"]) for r in rows} == {(False, "eager"), (True, "inductor")}
