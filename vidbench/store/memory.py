"""A results store held in memory: the RunStore protocol without a file, for tests and for producers of
runs that keep nothing. Rows are encoded and decoded as the SQLite store's are (`store/rows.py`)."""

from __future__ import annotations

from typing import Any, Collection, Iterable

from vidbench.store.record import RunResult
from vidbench.store.rows import PARSED, columns, decode, encode, now, unread_columns
from vidbench.store.sqlite import SCHEMA_VERSION
from vidbench.suite.spec import RunSpec


class MemoryStore:
    def __init__(self) -> None:
        self._rows: dict[str, dict[str, Any]] = {}  # run_id → encoded row, in write order
        self._meta = {"schema_version": str(SCHEMA_VERSION)}

    def statuses(self) -> dict[str, str]:
        return {run_id: row["status"] for run_id, row in self._rows.items()}

    def write(self, spec: RunSpec, result: RunResult, suite: str = "") -> None:
        self.write_many([(spec, result)], suite)

    def write_many(self, pairs: Iterable[tuple[RunSpec, RunResult]], suite: str = "") -> None:
        """All or none, as one SQLite transaction: every row is encoded before any is kept."""
        finished_at = now()
        rows = [encode(spec, result, suite, finished_at) for spec, result in pairs]
        for row in rows:
            self._rows.pop(row["run_id"], None)  # a replaced row moves to the end, as INSERT OR REPLACE does
            self._rows[row["run_id"]] = row

    def rows(self, parse: Collection[str] = PARSED) -> list[dict[str, Any]]:
        """As the SQLite store's: every column of the current set (empty where a row predates it)."""
        names = [c for c in columns().all if c not in unread_columns(parse)]
        return [decode({c: row.get(c) for c in names}, parse) for row in self._rows.values()]

    def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value

    def close(self) -> None:
        """Nothing to release: the rows stay readable."""

    def __enter__(self) -> "MemoryStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
