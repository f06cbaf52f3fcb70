"""Grid expansion: a validated Suite → the RunSpecs it asks for, the product of its axes minus `exclude`.

Expansion reads the registries as data (model names and patterns, constructor and dataset args, default
inputs, published test views) and refuses what is malformed in an entry; whether a run can run (input
limits, backend, protocol, views, weights) is admission's question (`vidbench.admission`), asked by every
producer of runs. Nothing here imports a backend or the run package.
"""

from __future__ import annotations

import fnmatch
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from vidbench.axes import AXES, EXCLUDE_KEYS, TRAIN_BY_NAME, resolution_label
from vidbench.data import dataset_info
from vidbench.errors import RegistryError, SuiteError
from vidbench.models import list_models, model_info
from vidbench.suite.paths import resolve_args
from vidbench.suite.published import OPTIONAL_KEYS, VIEW_KEYS, entry_clip
from vidbench.suite.schema import Entry, ModelEntry, Suite
from vidbench.suite.spec import RunSpec, with_runtime_alias


@dataclass(frozen=True)
class ModelRun:
    """One model an entry of `models:` names, with one combination of its grid."""

    entry: int  # its index in `models:` (error messages name it)
    name: str
    args: dict[str, Any]
    views: dict[str, Any]  # the dataset args its entry sets (its published test views or protocol)
    clip: dict[str, Any]  # the clip axes its entry sets instead of the suite's (`input: default`, `protocol:`)
    protocol: bool = False  # `protocol: published`


ModelCheck = Callable[[ModelRun, str], None]  # raises RegistryError for a model run it refuses


def grid_product(grid: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    """Every combination of a {key: [values]} grid, as dicts (one empty dict for an empty grid)."""
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, values))


def _entry_names(i: int, entry: ModelEntry) -> list[str]:
    if not any(ch in entry.name for ch in "*?["):
        return [entry.name]
    names = list_models(entry.name)
    if not names:
        raise SuiteError(f"models[{i}]: the pattern {entry.name!r} matches no registered model")
    return names


def model_runs(entries: list[ModelEntry], base_dir: str | None,
               check: ModelCheck | None = None) -> list[ModelRun]:
    """Every model a suite names with each combination of its grid; args its builder does not take are
    refused here. `check` (admission's weights check) is asked of each, its refusal named by entry."""
    out = []
    for i, entry in enumerate(entries):
        for name in _entry_names(i, entry):
            try:
                info = model_info(name)
                clip, views = entry_clip(name, entry, (info.default_frames, info.default_size))
                for combo in grid_product(entry.grid):
                    run = ModelRun(i, name, {**entry.args, **combo}, views, clip, entry.protocol == "published")
                    info.check_args(run.args)
                    if check is not None:
                        check(run, base_dir or "")
                    out.append(run)
            except RegistryError as e:
                raise SuiteError(f"models[{i}] {name!r}: {e}") from None
    return out


def _expand_datasets(entries: list[Entry], base_dir: str | None) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i, entry in enumerate(entries):
        try:
            info = dataset_info(entry.name)
            for combo in grid_product(entry.grid):
                args = {**entry.args, **combo}
                info.validate(resolve_args("dataset", args, base_dir))  # unknown args, missing files, options
                out.append((entry.name, args))
        except RegistryError as e:
            raise SuiteError(f"datasets[{i}]: {e}") from None
    return out


def _value_matches(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, tuple):  # a resolution: compared as the reports label it ('112', '112x160')
        actual = resolution_label(actual)
        if not isinstance(wanted, str):
            wanted = resolution_label(tuple(wanted) if isinstance(wanted, list) else (wanted, wanted))
    if isinstance(wanted, str):  # a glob
        return fnmatch.fnmatchcase(str(actual), wanted)
    return actual == wanted


def _lookup(spec: RunSpec, key: str) -> Any:
    if key.startswith("args."):
        return spec.model_args.get(key[5:])
    if key.startswith("dataset_args."):
        return spec.dataset_args.get(key[13:])
    if key.startswith("train."):
        return spec.train.get(key[6:])
    return getattr(spec, key)


def _check_exclude_keys(suite: Suite) -> None:
    for i, rule in enumerate(suite.exclude):
        if not rule:
            raise SuiteError(f"exclude[{i}]: an empty rule would exclude every run")
        for key in rule:
            prefix, _, rest = key.partition(".")
            ok = key in EXCLUDE_KEYS or (rest and prefix in ("args", "dataset_args")) or (
                prefix == "train" and rest in TRAIN_BY_NAME)
            if not ok:
                raise SuiteError(
                    f"exclude[{i}].{key}: unknown key; use one of {', '.join(EXCLUDE_KEYS)}, "
                    "args.<name>, dataset_args.<name> or train.<key>"
                )


def excluded(spec: RunSpec, rules: list[dict[str, Any]]) -> bool:
    return any(all(_value_matches(_lookup(spec, k), v) for k, v in rule.items()) for rule in rules)


def _check_protocol_dataset(model: ModelRun, dataset: str) -> None:
    """`protocol: published` needs a dataset that takes the published views (one line naming the entry)."""
    if model.protocol and not all(dataset_info(dataset).accepts(k) for k in VIEW_KEYS):
        raise SuiteError(f"models[{model.entry}] {model.name!r}: protocol: published needs test_clips and "
                         f"test_crops, which dataset {dataset!r} does not take")


def _spec(model: ModelRun, dataset: tuple[str, dict[str, Any]], axes: dict[str, Any], train: dict[str, Any],
          benchmark: dict[str, Any], serving: dict[str, Any] | None = None, **common: Any) -> RunSpec:
    info = model_info(model.name)
    axes = {**axes, **model.clip}  # the entry's clip replaces the suite's clip axes (duplicates merge later)
    name, dargs = dataset
    views = {k: v for k, v in model.views.items() if k not in OPTIONAL_KEYS or dataset_info(name).accepts(k)}
    return RunSpec(model=model.name, model_args=model.args, dataset=name, dataset_args={**dargs, **views},
                   **with_runtime_alias(axes), train=train, benchmark=dict(benchmark),
                   serving=dict(serving) if serving and "serving" in common.get("metrics", ()) else {},
                   family=info.family,
                   arch=info.arch, **common)


def combinations(suite: Suite, base_dir: str | Path | None = None,
                 check_model: ModelCheck | None = None) -> Iterator[RunSpec]:
    """Every combination of the suite's axes in a stable order, minus `exclude`; combinations whose
    settings no metric uses are yielded each (they share a run id: `unique_runs` merges them)."""
    _check_exclude_keys(suite)
    suite_dir = str(base_dir) if base_dir else ""
    models = model_runs(suite.models, suite_dir, check_model)
    datasets = _expand_datasets(suite.datasets, suite_dir)
    train_grid = {k: getattr(suite.train, k) for k in TRAIN_BY_NAME}
    axis_grid = {a.name: [a.to_spec(v) for v in suite.axis_values(a)] for a in AXES}
    benchmark = suite.benchmark.model_dump()
    for model, dataset, axes, train, serving in itertools.product(
        models, datasets, list(grid_product(axis_grid)), list(grid_product(train_grid)), suite.serving.per_run(),
    ):
        spec = _spec(model, dataset, axes, train, benchmark, serving, metrics=tuple(suite.metrics),
                     suite_dir=suite_dir)
        if not excluded(spec, suite.exclude):
            _check_protocol_dataset(model, dataset[0])
            yield spec


def unique_runs(specs: Iterable[RunSpec]) -> list[RunSpec]:
    """The first spec of each run id, in order (settings no metric uses collapse into one run)."""
    out: dict[str, RunSpec] = {}
    for spec in specs:
        out.setdefault(spec.run_id, spec)
    if not out:
        raise SuiteError("the suite expands to no runs (every combination is excluded)")
    return list(out.values())


def expand_suite(suite: Suite, base_dir: str | Path | None = None) -> list[RunSpec]:
    """All runs of the suite in a stable order, minus `exclude`, not yet admitted (`vidbench.admission.
    admit_suite` expands and admits). Relative paths resolve against `base_dir` (the suite's folder).

    Raises SuiteError naming the entry, key and value for a malformed entry or `exclude` rule.
    """
    return unique_runs(combinations(suite, base_dir))
