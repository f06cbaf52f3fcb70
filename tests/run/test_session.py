"""A session runs hand-made RunSpecs into a run folder without a suite file (lock, plan, execute, store), and
the folder renders apart; the session takes any RunStore (here the in-memory one)."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.conftest import make_spec
from vidbench.errors import UsageError
from vidbench.run.executors import Event
from vidbench.run.lock import FolderLock
from vidbench.run.session import Session, local_executor, render_folder
from vidbench.store import STORE_NAME, ResultStore, RunResult
from vidbench.store.memory import MemoryStore
from vidbench.store.protocol import RunStore

SPECS = [make_spec(), make_spec("c3d_tiny", resolution=(32, 32), arch="c3d")]


class InProcess:
    """An executor that answers every run at once, for what the session does around the runs."""

    def __init__(self):
        self.ran: list[str] = []

    def execute(self, specs) -> Iterator[Event]:
        for spec in specs:
            self.ran.append(spec.run_id)
            yield Event("start", spec)
            yield Event("end", spec, RunResult(spec.run_id, "ok", metrics={"params": 7}, duration_s=0.5))


def test_hand_made_specs_run_through_a_session_into_a_folder_without_a_suite_file(tmp_path):
    ended = []
    with local_executor(tmp_path) as executor:
        outcome = Session(tmp_path).run(SPECS, executor, on_end=lambda spec, result: ended.append(result.status))
    assert outcome.results == {s.run_id: "ok" for s in SPECS}
    assert outcome.executed == 2 and ended == ["ok", "ok"] and outcome.exit_code == 0
    assert not list(tmp_path.glob("*.yaml"))
    with ResultStore.open_existing(tmp_path) as store:
        rows = {r["run_id"]: r for r in store.rows()}
        assert store.get_meta("suite_yaml") is None
    assert all(rows[s.run_id]["params"] > 0 and rows[s.run_id]["gmacs"] > 0 for s in SPECS)
    reports, error = render_folder(tmp_path)
    assert error is None and {p.name for p in reports} == {"report.md", "report.html"}
    assert "c3d_tiny" in (tmp_path / "report.md").read_text()


def test_a_second_session_plans_the_finished_runs_as_done(tmp_path):
    executor = InProcess()
    Session(tmp_path).run(SPECS, executor)
    again = InProcess()
    outcome = Session(tmp_path).run([*SPECS, make_spec(clip_length=8)], again)
    assert len(executor.ran) == 2 and again.ran == [make_spec(clip_length=8).run_id]
    assert outcome.executed == 1 and set(outcome.results.values()) == {"ok"}
    assert [p.action for p in Session(tmp_path).plan(SPECS, force=True)] == ["run", "run"]


def test_the_session_locks_its_folder_while_it_runs(tmp_path):
    with Session(tmp_path, name="mine", meta={"suite_name": "mine"}) as session:
        with pytest.raises(UsageError, match="in use by another vidbench run"), FolderLock(tmp_path):
            pass
        session.execute(session.plan(SPECS[:1]), InProcess())
    with FolderLock(tmp_path), ResultStore(tmp_path / STORE_NAME) as store:  # released
        assert store.get_meta("suite_name") == "mine" and store.rows()[0]["suite"] == "mine"


def test_execute_needs_an_open_session(tmp_path):
    session = Session(tmp_path)
    with pytest.raises(RuntimeError, match="inside `with session:`"):
        session.execute(session.plan(SPECS), InProcess())


def test_a_session_runs_against_the_in_memory_store(tmp_path):
    store = MemoryStore()
    assert isinstance(store, RunStore) and isinstance(ResultStore(tmp_path / "x.sqlite"), RunStore)
    outcome = Session(tmp_path, store=store, name="mem").run(SPECS, InProcess())
    assert outcome.results == {s.run_id: "ok" for s in SPECS}
    assert not (tmp_path / STORE_NAME).exists()  # the rows are in the store given, not in the folder
    assert [r["run_id"] for r in store.rows()] == [s.run_id for s in SPECS]
    assert store.rows()[0]["suite"] == "mem" and store.rows()[0]["spec"]["model"] == "tsn_tiny"
    again = InProcess()
    Session(tmp_path, store=store).run(SPECS, again)
    assert again.ran == []  # planned against the memory store: both finished
