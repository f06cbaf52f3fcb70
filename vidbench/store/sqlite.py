"""The results store: one SQLite file per run folder, written only by the sweep's driver.

Each finished run is one row, written in its own transaction the moment the run ends, so a sweep
killed at any point keeps every run that finished. Rows carry the spec, the environment and the raw
detail as JSON beside the flat contract columns, and the file carries a schema version.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from vidbench.store.record import EXTRA_METRIC_COLUMNS, METRIC_COLUMNS, RESULT_COLUMNS, RunResult
from vidbench.suite.spec import RunSpec, canonical_json

SCHEMA_VERSION = 1
STORE_NAME = "results.sqlite"
_JSON_COLUMNS = ("model_args", "dataset_args")
_COLUMN_TYPES = {
    "clip_length": "INTEGER", "frame_stride": "INTEGER", "batch_size": "INTEGER", "compile": "INTEGER",
    "params": "INTEGER", "run_id": "TEXT PRIMARY KEY",
    **{c: "REAL" for c in (*METRIC_COLUMNS, *EXTRA_METRIC_COLUMNS) if c != "params"}, "duration_s": "REAL",
    "channels_last": "INTEGER", "unstable": "INTEGER", "skipped_videos": "INTEGER",
}
_EXTRA_COLUMNS = ("suite", "finished_at", "spec_json", "detail_json", "env_json")


class ResultStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
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
        cols = [f"{c} {_COLUMN_TYPES.get(c, 'TEXT')}" for c in (*RESULT_COLUMNS, *_EXTRA_COLUMNS)]
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
        have = {row[1] for row in self._conn.execute("PRAGMA table_info(runs)")}
        missing = [c for c in (*RESULT_COLUMNS, *_EXTRA_COLUMNS) if c not in have]
        if missing:
            with self._transaction():
                for c in missing:
                    self._conn.execute(f"ALTER TABLE runs ADD COLUMN {c} {_COLUMN_TYPES.get(c, 'TEXT')}")

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
        if spec.run_id != result.run_id:
            raise ValueError("result does not belong to this spec")
        row: dict[str, Any] = {
            "run_id": spec.run_id, "model": spec.model, "family": spec.family, "arch": spec.arch,
            "model_args": canonical_json(spec.model_args), "dataset": spec.dataset,
            "dataset_args": canonical_json(spec.dataset_args), "resolution": spec.resolution_label,
            "clip_length": spec.clip_length, "frame_stride": spec.frame_stride,
            # After out-of-memory retries the figures belong to the smaller batch that ran.
            "batch_size": result.detail.get("batch_size_run", spec.batch_size),
            "device": spec.device, "precision": spec.precision, "compile": int(spec.compile),
            "status": result.status, "error": result.error, "duration_s": result.duration_s,
            "channels_last": int(spec.channels_last),
            **{c: result.metrics.get(c) for c in (*METRIC_COLUMNS, *EXTRA_METRIC_COLUMNS)},
            "suite": suite, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "spec_json": canonical_json(spec.to_dict()), "detail_json": canonical_json(result.detail),
            "env_json": canonical_json(result.env),
        }
        names = list(row)
        with self._transaction():
            self._conn.execute(
                f"INSERT OR REPLACE INTO runs ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [row[n] for n in names],
            )

    def rows(self) -> list[dict[str, Any]]:
        """Every stored run as a dict: contract columns plus parsed spec, detail and env."""
        out = []
        for r in self._conn.execute("SELECT * FROM runs ORDER BY rowid"):
            row = dict(r)
            for col in ("spec_json", "detail_json", "env_json"):
                row[col.removesuffix("_json")] = json.loads(row.pop(col) or "{}")
            row["compile"] = bool(row["compile"])
            row["channels_last"] = bool(row["channels_last"])
            if row["unstable"] is not None:
                row["unstable"] = bool(row["unstable"])
            out.append(row)
        return out


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on error: a row is either fully stored or absent."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, *_):
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
