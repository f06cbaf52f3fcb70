"""Relative paths in a suite (model `weights`, dataset `root` and `annotations`) resolve against the suite's
folder, so a suite and its checkpoints and data move together. A path that does not exist there is
taken as given (relative to the working directory), as suites written before this rule meant it; the
run identity keeps the path as written either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PATH_ARGS = {"model": ("weights",), "dataset": ("root", "annotations")}


def resolve(value: Any, base_dir: str | Path | None) -> Any:
    """`value` resolved against `base_dir` when it is a relative path that exists there."""
    if not isinstance(value, str) or not value or not base_dir:
        return value
    path = Path(value).expanduser()
    if path.is_absolute():
        return value
    candidate = Path(base_dir) / path
    return str(candidate) if candidate.exists() else value


def resolve_args(kind: str, args: dict[str, Any], base_dir: str | Path | None) -> dict[str, Any]:
    """A model's or a dataset's args with their path arguments resolved against the suite's folder."""
    keys = [k for k in PATH_ARGS[kind] if k in args]
    if not keys:
        return args
    return {**args, **{k: resolve(args[k], base_dir) for k in keys}}
