"""What `vidbench models` lists: every registered model's metadata, its params and GMACs per clip at its
default input, and its published results with the GMACs per video of their test protocol.

Counting 44 models on the meta device takes seconds and importing torch a second or two, so the listing
is cached under the user's cache directory, keyed by everything its figures depend on: vidbench's
version and the size and mtime of every vidbench source file (a model's code changes its figures), and
torch's and torchvision's versions. A cache hit imports no torch. The figures in the cache are the ones
`model_cost` counts, the same code path as every run's.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parent
CLASSES = 400  # the listing counts each model with Kinetics-400's classifier


def cache_dir() -> Path:
    """$VIDBENCH_CACHE_DIR, else $XDG_CACHE_HOME/vidbench, else ~/.cache/vidbench."""
    explicit = os.environ.get("VIDBENCH_CACHE_DIR")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vidbench"


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def cache_key() -> dict[str, Any]:
    """What the listing's figures depend on; a change in any of it makes a new cache file."""
    code = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        stat = path.stat()
        code.update(f"{path.relative_to(PACKAGE)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return {"vidbench": _version("vidbench"), "code": code.hexdigest()[:16], "torch": _version("torch"),
            "torchvision": _version("torchvision"), "classes": CLASSES}


def cache_path(key: dict[str, Any]) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"models-{digest}.json"


def count_records() -> list[dict[str, Any]]:
    """Every registered model's record, counted now (imports torch and the registry)."""
    from vidbench.measure.flops import model_cost
    from vidbench.models import list_models, model_info
    from vidbench.models.published import primary_result, published_results

    records = []
    for name in list_models():
        info = model_info(name)
        frames, size = info.default_frames, info.default_size
        cost = model_cost(name, CLASSES, {}, frames, size, size)
        published = []
        for result in published_results(name):
            clip = cost if (result.frames, result.size) == (frames, size) else model_cost(
                name, CLASSES, {}, result.frames, result.size, result.size)
            published.append({**dataclasses.asdict(result), "views": result.views, "input": result.input,
                              "gmacs_per_clip": clip.gmacs, "gmacs_per_video": clip.gmacs * result.views})
        primary = primary_result(name)
        records.append({"name": name, "family": info.family, "arch": info.arch, "params": cost.params,
                        "gmacs": cost.gmacs, "input": f"{frames}x{size}x{size}", "paper": info.paper,
                        "published": published,  # and the one `vidbench models` shows (published.py's pick)
                        "primary": None if primary is None else published_results(name).index(primary)})
    return records


def model_records(use_cache: bool = True) -> list[dict[str, Any]]:
    """Every registered model's record: from the cache when it holds the current key, else counted (and
    cached, unless `use_cache` is False)."""
    key = cache_key()
    path = cache_path(key)
    if use_cache and path.is_file():
        try:
            cached = json.loads(path.read_text())
            if cached.get("key") == key:
                return cached["records"]
        except (OSError, ValueError):
            pass  # unreadable: counted again below
    records = count_records()
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"key": key, "records": records}))
            tmp.replace(path)
        except OSError:
            pass  # a read-only home still lists the models
    return records


def select(records: list[dict[str, Any]], pattern: str | None, family: str | None) -> list[dict[str, Any]]:
    """The records whose name matches the glob `pattern` and of `family` (as `list_models` selects)."""
    return [r for r in records if (pattern is None or fnmatch.fnmatchcase(r["name"], pattern))
            and (family is None or r["family"] == family)]
