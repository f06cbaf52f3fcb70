"""A run as a stored row and back: the column set, the JSON columns' encoding and what `rows()` returns.

Shared by every store (`sqlite.py` keeps the rows in a file, `memory.py` in a dict), so a row read back is
the same whichever store held it.
"""

from __future__ import annotations

import json
import time
from typing import Any, Collection

import orjson

from vidbench import metrics
from vidbench.axes import AXES
from vidbench.store.record import RESULT_COLUMNS, RunResult
from vidbench.suite.spec import RunSpec, canonical_json

EXTRA_COLUMNS = ("suite", "finished_at", "spec_json", "detail_json", "env_json")
PARSED = ("spec", "detail", "env")  # the JSON columns rows() parses, stored as <name>_json
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


class Columns:
    """The column set for the metric table `metrics.COLUMNS` as it is now: a metric registered after import
    (`metrics.register_measure`) adds its columns after the declared ones."""

    def __init__(self, columns: tuple) -> None:
        self.figures = tuple(c.name for c in columns)
        self.booleans = tuple(c.name for c in (*AXES, *columns) if c.kind == "bool")
        self.all = (*RESULT_COLUMNS, *(c for c in self.figures if c not in RESULT_COLUMNS), *EXTRA_COLUMNS)


_NOW: list = [None, None]  # the metric table Columns was last built from, and it


def columns() -> Columns:
    """The current column set, rebuilt only when the metric table changed (read at every write and read)."""
    if _NOW[0] is not metrics.COLUMNS:
        _NOW[:] = [metrics.COLUMNS, Columns(metrics.COLUMNS)]
    return _NOW[1]


def dump(value: Any) -> str:
    """A JSON column's text: sorted keys, compact, anything unknown as str (as canonical_json does). orjson,
    because encoding and parsing each run's detail is most of what storing and reading 10,000 runs costs."""
    return orjson.dumps(value, default=str, option=_ORJSON_OPTIONS).decode()


def load(text: str | None) -> Any:
    """A JSON column's value; the json module reads what orjson refuses (NaN, written by older vidbench)."""
    if not text:
        return {}
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def now() -> str:
    """A row's `finished_at`."""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def encode(spec: RunSpec, result: RunResult, suite: str, finished_at: str) -> dict[str, Any]:
    """The stored row of one run, keyed by column."""
    if spec.run_id != result.run_id:
        raise ValueError("result does not belong to this spec")
    return {
        "run_id": spec.run_id, "model": spec.model, "family": spec.family, "arch": spec.arch,
        "model_args": canonical_json(spec.model_args), "dataset": spec.dataset,
        "dataset_args": canonical_json(spec.dataset_args),
        **{a.name: a.to_column(getattr(spec, a.name)) for a in AXES},
        # After out-of-memory retries the figures belong to the smaller batch that ran.
        "batch_size": result.detail.get("batch_size_run", spec.batch_size),
        "status": result.status, "error": result.error, "duration_s": result.duration_s,
        **{c: result.metrics.get(c) for c in columns().figures},
        "suite": suite, "finished_at": finished_at,
        "spec_json": dump(spec.to_dict(copy=False)), "detail_json": dump(result.detail),
        "env_json": dump(result.env),
    }


def unread_columns(parse: Collection[str]) -> set[str]:
    """The JSON columns a reader asking to parse `parse` leaves out; refuses a name rows() does not parse."""
    unknown = set(parse) - set(PARSED)
    if unknown:
        raise ValueError(f"rows() parses {PARSED}, not {sorted(unknown)}")
    return {f"{c}_json" for c in PARSED if c not in parse}


def decode(row: dict[str, Any], parse: Collection[str]) -> dict[str, Any]:
    """A stored row as rows() returns it (in place): the JSON columns in `parse` parsed, booleans as bool
    (SQLite keeps them as integers)."""
    for col in parse:
        row[col] = load(row.pop(f"{col}_json"))
    for name in columns().booleans:
        if row.get(name) is not None:
            row[name] = bool(row[name])
    return row
