"""The results store: one SQLite file per run folder, written only by the sweep's driver.

Each finished run is one row, written in its own transaction the moment the run ends, so a sweep
killed at any point keeps every run that finished. Rows carry the spec, the environment and the raw
detail as JSON beside the flat contract columns, and the file carries a schema version.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
from pathlib import Path
from typing import Any, Collection, Iterable

from vidbench import metrics
from vidbench.axes import AXES
from vidbench.store.record import RunResult
from vidbench.store.rows import PARSED, columns, decode, encode, load, now, unread_columns
from vidbench.suite.spec import RunSpec, stored_axes

SCHEMA_VERSION = 1
STORE_NAME = "results.sqlite"
_JSON_COLUMNS = ("model_args", "dataset_args")
_SQL_TYPES = {"int": "INTEGER", "bool": "INTEGER", "float": "REAL", "text": "TEXT"}
_AXIS_TYPES = {"run_id": "TEXT PRIMARY KEY", "duration_s": "REAL", **{a.name: _SQL_TYPES[a.kind] for a in AXES}}
_LATE_AXES = tuple(a for a in AXES if not a.contract)  # axes whose columns older stores lack


def _column_type(name: str) -> str:
    """A column's SQL type: the axis or figure declared under that name (read at use), else TEXT."""
    figure = metrics.COLUMNS_BY_NAME.get(name)
    return _AXIS_TYPES.get(name) or (_SQL_TYPES[figure.kind] if figure else "TEXT")


def _insert(names: tuple[str, ...]) -> str:
    return f"INSERT OR REPLACE INTO runs ({', '.join(names)}) VALUES ({', '.join(f':{c}' for c in names)})"


class ResultStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._create()

    @classmethod
    def open_existing(cls, folder: str | Path) -> "ResultStore":
        path = Path(folder) / STORE_NAME
        if not path.is_file():
            raise FileNotFoundError(path)
        return cls(path)

    def _create(self) -> None:
        cols = [f"{c} {_column_type(c)}" for c in columns().all]
        with self._transaction():
            self._conn.execute(f"CREATE TABLE IF NOT EXISTS runs ({', '.join(cols)})")
            self._conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self._conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        self._add_missing_columns()
        version = int(self.get_meta("schema_version"))
        if version != SCHEMA_VERSION:
            raise RuntimeError(f"{self.path}: store schema version {version}, this vidbench reads {SCHEMA_VERSION}")

    def _add_missing_columns(self) -> None:
        """A store written by an older vidbench lacks the newer (all optional) columns: add them, empty."""
        have = set(self._columns())
        missing = [c for c in columns().all if c not in have]
        if missing:
            with self._transaction():
                for c in missing:
                    self._conn.execute(f"ALTER TABLE runs ADD COLUMN {c} {_column_type(c)}")
        self._have = columns().all
        self._fill_axes()

    def _fill_axes(self) -> None:
        """Rows whose axis column is empty (stored before the axis existed) get the value their run had
        (see `stored_axes`: the seed its spec kept, `inductor` for a compiled run, the default otherwise)."""
        for axis in _LATE_AXES:
            empty = self._conn.execute(f"SELECT run_id, spec_json FROM runs WHERE {axis.name} IS NULL").fetchall()
            if empty:
                with self._transaction():
                    self._conn.executemany(f"UPDATE runs SET {axis.name} = ? WHERE run_id = ?", [
                        (axis.to_column(stored_axes(load(text))[axis.name]), run_id) for run_id, text in empty])

    def _columns(self) -> list[str]:
        return [row[1] for row in self._conn.execute("PRAGMA table_info(runs)")]

    def _transaction(self):
        return _Transaction(self._conn)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get_meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._transaction():
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def statuses(self) -> dict[str, str]:
        """run_id → status of every stored run."""
        return {r[0]: r[1] for r in self._conn.execute("SELECT run_id, status FROM runs")}

    def write(self, spec: RunSpec, result: RunResult, suite: str = "") -> None:
        """Store one finished run (replacing an earlier row of the same run) in one transaction."""
        self.write_many([(spec, result)], suite)

    def write_many(self, pairs: Iterable[tuple[RunSpec, RunResult]], suite: str = "") -> None:
        """Store several finished runs in one transaction (all or none): one commit instead of one per
        run, for runs known together. The sweep writes each run alone, the moment it ends."""
        finished_at = now()
        rows = [encode(spec, result, suite, finished_at) for spec, result in pairs]
        if self._have is not columns().all:  # a metric registered since the store was opened: its columns
            self._add_missing_columns()
        with self._transaction():
            self._conn.executemany(_insert(tuple(rows[0]) if rows else self._have), rows)

    def rows(self, parse: Collection[str] = PARSED) -> list[dict[str, Any]]:
        """Every stored run as a dict: contract columns plus parsed spec, detail and env. A reader that
        needs fewer of the three names them in `parse`; the others are left out of the rows unparsed
        (the detail and environment are most of the JSON a row carries)."""
        unread = unread_columns(parse)
        names = [c for c in self._columns() if c not in unread]
        out = []
        with _no_gc():
            cursor = self._conn.execute(f"SELECT {', '.join(names)} FROM runs ORDER BY rowid")
            for values in cursor:
                out.append(decode(dict(zip(names, values)), parse))
        return out


@contextlib.contextmanager
def _no_gc():
    """The cyclic collector paused while rows() builds its result: parsing thousands of details
    allocates a container per list, none of them in a cycle, and the collector would traverse the
    growing result again and again (half of rows()' time on 10,000 rows)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on error: a row is either fully stored or absent."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
