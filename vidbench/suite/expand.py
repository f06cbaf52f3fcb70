"""Grid expansion: a validated Suite → the RunSpecs it asks for, checked against the registries."""

from __future__ import annotations

import fnmatch
import itertools
from typing import Any, Iterator

from vidbench.axes import AXES, EXCLUDE_KEYS, TRAIN_BY_NAME, resolution_label
from vidbench.backends import backend_for
from vidbench.data import dataset_info
from vidbench.errors import RegistryError, SuiteError
from vidbench.models import list_models, model_info
from vidbench.models.weights import resolve_weights
from vidbench.suite.schema import Entry, Suite
from vidbench.suite.spec import RunSpec

AXIS_KEYS = EXCLUDE_KEYS
TRAIN_KEYS = tuple(TRAIN_BY_NAME)


def grid_product(grid: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    """Every combination of a {key: [values]} grid, as dicts (one empty dict for an empty grid)."""
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, values))


def _expand_models(entries: list[Entry]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i, entry in enumerate(entries):
        if any(ch in entry.name for ch in "*?["):
            names = list_models(entry.name)
            if not names:
                raise SuiteError(f"models[{i}]: the pattern {entry.name!r} matches no registered model")
        else:
            names = [entry.name]
        for name in names:
            try:
                info = model_info(name)
                for combo in grid_product(entry.grid):
                    args = {**entry.args, **combo}
                    info.check_args(args)
                    if args.get("weights") is not None:
                        resolve_weights(str(args["weights"]), info.torchvision_weights)
                    out.append((name, args))
            except RegistryError as e:
                raise SuiteError(f"models[{i}]: {e}") from None
    return out


def _expand_datasets(entries: list[Entry]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for i, entry in enumerate(entries):
        try:
            info = dataset_info(entry.name)
            for combo in grid_product(entry.grid):
                args = {**entry.args, **combo}
                info.validate(args)  # unknown args, missing root or annotation files, bad options
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
            ok = key in AXIS_KEYS or (rest and prefix in ("args", "dataset_args")) or (
                prefix == "train" and rest in TRAIN_KEYS)
            if not ok:
                raise SuiteError(
                    f"exclude[{i}].{key}: unknown key; use one of {', '.join(AXIS_KEYS)}, "
                    "args.<name>, dataset_args.<name> or train.<key>"
                )


def excluded(spec: RunSpec, rules: list[dict[str, Any]]) -> bool:
    return any(all(_value_matches(_lookup(spec, k), v) for k, v in rule.items()) for rule in rules)


def expand_suite(suite: Suite) -> list[RunSpec]:
    """All runs of the suite in a stable order, minus `exclude`, each checked against its model's limits.

    Raises SuiteError naming model, key and value for the first impossible combination.
    """
    _check_exclude_keys(suite)
    models = _expand_models(suite.models)
    datasets = _expand_datasets(suite.datasets)
    train_grid = {k: getattr(suite.train, k) for k in TRAIN_KEYS}
    axis_grid = {a.name: [a.to_spec(v) for v in suite.axis_values(a)] for a in AXES}
    benchmark = suite.benchmark.model_dump()
    specs: dict[str, RunSpec] = {}
    for (model, margs), (dataset, dargs), axes, train in itertools.product(
        models, datasets, list(grid_product(axis_grid)), list(grid_product(train_grid)),
    ):
        info = model_info(model)
        spec = RunSpec(model=model, model_args=margs, dataset=dataset, dataset_args=dargs, **axes,
                       metrics=tuple(suite.metrics), train=train, benchmark=dict(benchmark),
                       family=info.family, arch=info.arch)
        if excluded(spec, suite.exclude):
            continue
        args = f" {margs}" if margs else ""
        problem = info.input_limits(margs).violation(spec.clip_length, *spec.resolution)
        if problem:
            raise SuiteError(f"model {model!r}{args}: {problem} (drop it from the grid or add an `exclude` rule)")
        refusal = backend_for(spec).unsupported(spec)
        if refusal:
            raise SuiteError(f"model {model!r}{args} on {spec.device}: {refusal} "
                             "(drop it from the grid or add an `exclude` rule)")
        specs.setdefault(spec.run_id, spec)  # settings no metric uses collapse into one run
    if not specs:
        raise SuiteError("the suite expands to no runs (every combination is excluded)")
    return list(specs.values())
