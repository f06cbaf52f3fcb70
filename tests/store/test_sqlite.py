"""The SQLite results store: one row per run, replaced not duplicated, with a schema version."""

from __future__ import annotations

import sqlite3

import pytest

from tests.conftest import make_spec
from vidbench.store import METRIC_COLUMNS, RESULT_COLUMNS, STATUSES, STORE_NAME, ResultStore, RunResult
from vidbench.store.record import SPEC_COLUMNS
from vidbench.store.sqlite import SCHEMA_VERSION


@pytest.fixture
def store(tmp_path):
    with ResultStore(tmp_path / STORE_NAME) as s:
        yield s


def test_write_and_read_back(store):
    spec = make_spec("timesformer_tiny", model_args={"attention": "joint"}, resolution=(32, 48), family="transformer",
                     arch="timesformer")
    result = RunResult(spec.run_id, "ok", metrics={"params": 1234, "gmacs": 0.5, "gflops": 1.0, "top1": 62.5},
                       detail={"train_losses": [1.5, 1.2]}, env={"torch": "x.y"}, duration_s=3.25)
    store.write(spec, result, suite="mysuite")
    (row,) = store.rows()
    assert set(RESULT_COLUMNS) <= set(row)
    assert row["run_id"] == spec.run_id
    assert (row["model"], row["family"], row["arch"]) == ("timesformer_tiny", "transformer", "timesformer")
    assert row["model_args"] == '{"attention":"joint"}'
    assert row["resolution"] == "32x48"
    assert (row["clip_length"], row["batch_size"], row["device"], row["compile"]) == (4, 2, "cpu", False)
    assert row["status"] == "ok" and row["error"] is None
    assert row["params"] == 1234 and isinstance(row["params"], int)
    assert (row["gmacs"], row["gflops"], row["top1"]) == (0.5, 1.0, 62.5)
    assert row["top5"] is None and row["latency_ms_p50"] is None  # not measured: empty, never 0
    assert row["duration_s"] == 3.25 and row["suite"] == "mysuite"
    assert row["detail"] == {"train_losses": [1.5, 1.2]} and row["env"] == {"torch": "x.y"}
    assert row["spec"]["resolution"] == [32, 48]


def test_stored_spec_rebuilds_the_same_run(store):
    from vidbench.suite.spec import RunSpec

    spec = make_spec(resolution=(32, 48), metrics=("params", "accuracy"))
    store.write(spec, RunResult(spec.run_id, "ok"))
    again = RunSpec.from_dict(store.rows()[0]["spec"])
    assert again == spec and again.run_id == spec.run_id


def test_writing_a_run_again_replaces_its_row(store):
    spec = make_spec()
    store.write(spec, RunResult(spec.run_id, "failed", "RuntimeError: first"))
    store.write(spec, RunResult(spec.run_id, "ok", metrics={"params": 7}))
    rows = store.rows()
    assert len(rows) == 1
    assert rows[0]["status"] == "ok" and rows[0]["error"] is None and rows[0]["params"] == 7


def test_statuses(store):
    a, b, c = make_spec(), make_spec(clip_length=8), make_spec(device="cuda")
    store.write(a, RunResult(a.run_id, "ok"))
    store.write(b, RunResult(b.run_id, "timeout", "too slow"))
    store.write(c, RunResult(c.run_id, "skipped", "no CUDA"))
    assert store.statuses() == {a.run_id: "ok", b.run_id: "timeout", c.run_id: "skipped"}


def test_a_result_must_belong_to_its_spec(store):
    a, b = make_spec(), make_spec(clip_length=8)
    with pytest.raises(ValueError):
        store.write(a, RunResult(b.run_id, "ok"))
    assert store.rows() == []


def test_meta_holds_the_schema_version_and_custom_keys(tmp_path):
    path = tmp_path / STORE_NAME
    with ResultStore(path) as s:
        assert s.get_meta("schema_version") == str(SCHEMA_VERSION)
        assert s.get_meta("missing") is None
        s.set_meta("suite_name", "a")
        s.set_meta("suite_name", "b")
    with ResultStore.open_existing(tmp_path) as s:
        assert s.get_meta("suite_name") == "b"


def test_rows_survive_reopening(tmp_path):
    spec = make_spec()
    with ResultStore(tmp_path / STORE_NAME) as s:
        s.write(spec, RunResult(spec.run_id, "ok", metrics={"params": 1}))
    with ResultStore.open_existing(tmp_path) as s:
        assert s.statuses() == {spec.run_id: "ok"}


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / STORE_NAME
    ResultStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="schema version"):
        ResultStore(path)


def test_open_existing_needs_a_store(tmp_path):
    with pytest.raises(FileNotFoundError):
        ResultStore.open_existing(tmp_path)
    assert not (tmp_path / STORE_NAME).exists()


def test_run_result_rejects_unknown_status_and_metrics():
    with pytest.raises(ValueError, match="status"):
        RunResult("x", "done")
    with pytest.raises(ValueError, match="accuracy"):
        RunResult("x", "ok", metrics={"accuracy": 50.0})
    for status in STATUSES:
        RunResult("x", status, metrics={c: 1.0 for c in METRIC_COLUMNS})


def test_contract_columns():
    # The contract (README.md, "What each metric measures"): the columns `vidbench results --format csv` has at least.
    contract = ("run_id model family arch model_args dataset resolution clip_length frame_stride batch_size device "
                "precision compile status error params gmacs gflops peak_mem_mb latency_ms_p50 latency_ms_p90 "
                "throughput_clips_s train_throughput_clips_s train_peak_mem_mb top1 top5 duration_s").split()
    assert set(contract) <= set(RESULT_COLUMNS)
    # the contract's statuses, and the runtimes' two (unsupported: cannot convert; mismatch: parity below the floor)
    assert set(STATUSES) == {"ok", "failed", "oom", "timeout", "crashed", "skipped", "unsupported", "mismatch"}


def test_write_many_stores_every_run_in_one_transaction(store):
    specs = [make_spec(clip_length=t) for t in (4, 8, 16)]
    store.write_many([(s, RunResult(s.run_id, "ok", detail={"t": s.clip_length})) for s in specs], suite="many")
    rows = store.rows()
    assert [r["run_id"] for r in rows] == [s.run_id for s in specs]
    assert [r["detail"] for r in rows] == [{"t": 4}, {"t": 8}, {"t": 16}]
    assert {r["suite"] for r in rows} == {"many"}


def test_write_many_stores_all_or_none(store):
    a, b = make_spec(), make_spec(clip_length=8)
    with pytest.raises(ValueError):
        store.write_many([(a, RunResult(a.run_id, "ok")), (b, RunResult(a.run_id, "ok"))])
    assert store.rows() == []


def test_rows_parse_only_the_json_asked_for(store):
    spec = make_spec()
    store.write(spec, RunResult(spec.run_id, "failed", "boom", detail={"traceback": ["x"]}, env={"torch": "x.y"}))
    (full,) = store.rows()
    (light,) = store.rows(parse=("spec",))
    assert light["spec"] == full["spec"] and "detail" not in light and "env" not in light
    assert {k: v for k, v in full.items() if k not in ("detail", "env")} == light
    assert not any(k.endswith("_json") for k in (*full, *light))
    with pytest.raises(ValueError, match="traceback"):
        store.rows(parse=("traceback",))


def test_a_store_of_an_older_vidbench_gains_the_new_columns(tmp_path):
    """Stores written before channels_last and the extra metric columns existed still load and take writes."""
    path = tmp_path / STORE_NAME
    old_columns = [c for c in RESULT_COLUMNS if c in (*SPEC_COLUMNS, *METRIC_COLUMNS, "run_id", "status", "error",
                                                      "duration_s")]
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE runs ({', '.join(old_columns)}, suite, finished_at, spec_json, detail_json, env_json)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    old = make_spec()
    conn.execute("INSERT INTO runs (run_id, model, status, compile, params, spec_json, detail_json) "
                 "VALUES (?, 'tsn_tiny', 'ok', 0, 5, ?, NULL)", (old.run_id, '{"seed": 0}'))
    conn.commit()
    conn.close()
    new = make_spec(clip_length=8)
    with ResultStore(path) as s:
        s.write(new, RunResult(new.run_id, "ok", metrics={"mfu": 0.5}))
        first, second = s.rows()
    assert (first["run_id"], first["params"], first["spec"], first["detail"], first["env"]) == (
        old.run_id, 5, {"seed": 0}, {}, {})
    assert first["channels_last"] is False and first["mfu"] is None and first["unstable"] is None
    assert second["run_id"] == new.run_id and second["mfu"] == 0.5


def test_json_columns_round_trip_and_old_nan_tokens_still_read(store):
    import math

    spec = make_spec("tsn_tiny")
    detail = {"inference_s": {"median": 0.0123456789, "samples": [0.1, 0.2]}, "counts": (1, 2), "b": None, "a": True}
    store.write(spec, RunResult(spec.run_id, "ok", metrics={}, detail=detail, env={"torch": "2.x"}))
    (row,) = store.rows()
    assert row["detail"] == {**detail, "counts": [1, 2]} and row["env"] == {"torch": "2.x"}
    raw = store._conn.execute("SELECT detail_json FROM runs").fetchone()[0]
    assert raw.index('"a"') < raw.index('"b"') < raw.index('"counts"')  # sorted keys, as before
    # The json module wrote NaN as a bare token, which orjson refuses: such stores still read.
    store._conn.execute("UPDATE runs SET detail_json = ?", ('{"unstable_iqr": NaN}',))
    (row,) = store.rows()
    assert math.isnan(row["detail"]["unstable_iqr"])
