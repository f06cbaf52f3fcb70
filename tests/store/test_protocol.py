"""The RunStore protocol: the SQLite store and the in-memory one satisfy it and give the same rows back."""

from __future__ import annotations

import pytest

from tests.conftest import make_spec
from vidbench.store import STORE_NAME, ResultStore, RunResult
from vidbench.store.memory import MemoryStore
from vidbench.store.protocol import RunStore
from vidbench.store.sqlite import SCHEMA_VERSION


@pytest.fixture(params=["sqlite", "memory"])
def store(request, tmp_path):
    with (ResultStore(tmp_path / STORE_NAME) if request.param == "sqlite" else MemoryStore()) as s:
        yield s


def written(store: RunStore) -> list[dict]:
    """Three runs, one written twice (a failure, then ok), one of them alone and two together."""
    a, b, c = make_spec(), make_spec("timesformer_tiny", model_args={"attention": "joint"}, resolution=(32, 48),
                                     compile=True, runtime="inductor"), make_spec(device="cuda")
    store.write(a, RunResult(a.run_id, "failed", "RuntimeError: first"), suite="s")
    store.write_many([(b, RunResult(b.run_id, "ok", metrics={"params": 12, "gmacs": 0.5}, detail={"t": [1.5]},
                                    env={"torch": "x"}, duration_s=2.5)),
                      (c, RunResult(c.run_id, "skipped", "no CUDA", duration_s=0.0))], suite="s")
    store.write(a, RunResult(a.run_id, "ok", metrics={"params": 7}, duration_s=1.25), suite="s")
    return [a, b, c]


def test_both_stores_are_run_stores(store):
    assert isinstance(store, RunStore)
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION) and store.get_meta("missing") is None
    store.set_meta("suite_name", "a")
    store.set_meta("suite_name", "b")
    assert store.get_meta("suite_name") == "b"


def test_statuses_and_rows_follow_the_writes(store):
    a, b, c = written(store)
    assert store.statuses() == {a.run_id: "ok", b.run_id: "ok", c.run_id: "skipped"}
    rows = store.rows()
    assert [r["run_id"] for r in rows] == [b.run_id, c.run_id, a.run_id]  # a replaced row moves to the end
    assert rows[0]["compile"] is True and rows[0]["resolution"] == "32x48" and rows[0]["detail"] == {"t": [1.5]}
    assert rows[2]["params"] == 7 and rows[2]["error"] is None and rows[2]["spec"]["model"] == "tsn_tiny"
    (light, *_) = store.rows(parse=("spec",))
    assert "detail" not in light and not any(k.endswith("_json") for k in light)
    with pytest.raises(ValueError, match="traceback"):
        store.rows(parse=("traceback",))


def test_a_result_of_another_run_stores_nothing(store):
    a, b = make_spec(), make_spec(clip_length=8)
    with pytest.raises(ValueError):
        store.write_many([(a, RunResult(a.run_id, "ok")), (b, RunResult(a.run_id, "ok"))])
    assert store.rows() == [] and store.statuses() == {}


def test_the_memory_store_gives_the_sqlite_stores_rows(tmp_path):
    memory = MemoryStore()
    with ResultStore(tmp_path / STORE_NAME) as sqlite:
        written(memory), written(sqlite)
        ours, theirs = memory.rows(), sqlite.rows()
    for row in (*ours, *theirs):
        del row["finished_at"]
    assert ours == theirs
