"""Each committed reference suite, planned against its committed store (what `vidbench run SUITE --dry-run`
plans), has nothing to run: every run is stored and kept. Runs stored as `skipped` (a device or package
absent where the reference ran) are retried only where it is present now (`plan_runs`)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from vidbench.run.session import prepare_sweep
from vidbench.store import STORE_NAME

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = sorted(p.parent.relative_to(ROOT) for p in (ROOT / "reports").glob("**/" + STORE_NAME))


def suite_name(folder: Path) -> str:
    """The suite that wrote the folder, as its store's meta says (read-only: nothing is written there)."""
    conn = sqlite3.connect(f"file:{ROOT / folder / STORE_NAME}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT value FROM meta WHERE key = 'suite_name'").fetchone()[0]
    finally:
        conn.close()


def test_every_committed_store_is_a_reference_suites():
    assert {str(f) for f in FOLDERS} >= {"reports/ablation-cpu", "reports/ablation-seeds-cpu", "reports/choose-cpu",
                                         "reports/deploy-cpu", "reports/transfer-cpu",
                                         "reports/transfer-cpu/pretrain"}
    for folder in FOLDERS:
        assert (ROOT / "suites" / f"{suite_name(folder)}.yaml").is_file(), folder


@pytest.mark.parametrize("folder", FOLDERS, ids=str)
def test_a_reference_suite_has_nothing_left_to_run_in_its_committed_store(folder, tmp_path):
    suite = ROOT / "suites" / f"{suite_name(folder)}.yaml"
    copy = tmp_path / folder.name  # the store (and saved weights) copied: opening a store may write to it
    copy.mkdir()
    shutil.copyfile(ROOT / folder / STORE_NAME, copy / STORE_NAME)
    if (ROOT / folder / "weights").is_dir():
        shutil.copytree(ROOT / folder / "weights", copy / "weights")
    prepared = prepare_sweep(suite, copy)
    assert prepared.suite.output in (None, str(folder))  # the folder the suite writes (ablation: given by -o)
    plan = prepared.plan()
    stored = prepared.stored_statuses()
    assert {p.spec.run_id for p in plan} == set(stored), "the store holds exactly the suite's runs"
    to_run = [p for p in plan if p.action == "run"]
    assert all(p.stored_status == "skipped" and p.reason is None for p in to_run), [
        (p.spec.model, p.spec.device, p.spec.runtime, p.stored_status) for p in to_run]
    assert all(p.action == "done" for p in plan if p.reason or p.stored_status != "skipped")
