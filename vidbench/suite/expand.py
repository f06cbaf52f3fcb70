"""Grid expansion: a validated Suite → the RunSpecs it asks for, checked against the registries."""

from __future__ import annotations

import fnmatch
import itertools
from pathlib import Path
from typing import Any, Iterator

from vidbench.axes import AXES, EXCLUDE_KEYS, TRAIN_BY_NAME, resolution_label
from vidbench.backends import backend_for
from vidbench.data import dataset_info
from vidbench.errors import RegistryError, SuiteError
from vidbench.models import list_models, model_info
from vidbench.models.weights import check_weights
from vidbench.suite.paths import resolve_args
from vidbench.suite.protocols import check_protocol
from vidbench.suite.schema import Entry, ModelEntry, Suite
from vidbench.suite.spec import RunSpec, with_runtime_alias



def grid_product(grid: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    """Every combination of a {key: [values]} grid, as dicts (one empty dict for an empty grid)."""
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        yield dict(zip(keys, values))


def _published_views(name: str) -> dict[str, int]:
    """The dataset args that set a model's published test protocol (its first Kinetics-400 result)."""
    from vidbench.models.published import no_published_reason, primary_result

    result = primary_result(name)
    if result is None:
        raise RegistryError(f"test_views: published: model {name!r} has no published result "
                            f"({no_published_reason(name) or 'none recorded'})")
    return {"test_clips": result.clips, "test_crops": result.crops}


def _expand_models(entries: list[ModelEntry],
                   base_dir: str | None) -> list[tuple[str, dict[str, Any], dict[str, int], bool]]:
    """(model, constructor args, dataset args its entry sets, whether it runs at its default input) for
    every model a suite names; a checkpoint that does not fit its model is refused here, before any run."""
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
                views = _published_views(name) if entry.test_views == "published" else {}
                own_input = entry.input == "default"
                for combo in grid_product(entry.grid):
                    args = {**entry.args, **combo}
                    info.check_args(args)
                    check_weights(name, resolve_args("model", args, base_dir))
                    out.append((name, args, views, own_input))
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


def expand_suite(suite: Suite, base_dir: str | Path | None = None) -> list[RunSpec]:
    """All runs of the suite in a stable order, minus `exclude`, each checked against its model's limits,
    its backend and its training protocol. Relative paths resolve against `base_dir` (the suite's folder).

    Raises SuiteError naming model, key and value for the first impossible combination.
    """
    _check_exclude_keys(suite)
    suite_dir = str(base_dir) if base_dir else ""
    models = _expand_models(suite.models, suite_dir)
    datasets = _expand_datasets(suite.datasets, suite_dir)
    train_grid = {k: getattr(suite.train, k) for k in TRAIN_BY_NAME}
    axis_grid = {a.name: [a.to_spec(v) for v in suite.axis_values(a)] for a in AXES}
    benchmark = suite.benchmark.model_dump()
    specs: dict[str, RunSpec] = {}
    for (model, margs, views, own_input), (dataset, dargs), axes, train in itertools.product(
        models, datasets, list(grid_product(axis_grid)), list(grid_product(train_grid)),
    ):
        info = model_info(model)
        if own_input:  # the suite's clip axes collapse to the model's default clip (duplicates merge below)
            axes = {**axes, "clip_length": info.default_frames, "resolution": (info.default_size,) * 2}
        axes = with_runtime_alias(axes)
        if views:
            if not all(dataset_info(dataset).accepts(k) for k in views):
                raise SuiteError(f"model {model!r}: test_views: published needs test_clips and test_crops, "
                                 f"which dataset {dataset!r} does not take")
            dargs = {**dargs, **views}
        spec = RunSpec(model=model, model_args=margs, dataset=dataset, dataset_args=dargs, **axes,
                       metrics=tuple(suite.metrics), train=train, benchmark=dict(benchmark),
                       family=info.family, arch=info.arch, suite_dir=suite_dir)
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
        problem = check_protocol(spec)
        if problem:
            raise SuiteError(f"model {model!r}{args}: {problem}")
        specs.setdefault(spec.run_id, spec)  # settings no metric uses collapse into one run
    if not specs:
        raise SuiteError("the suite expands to no runs (every combination is excluded)")
    return list(specs.values())
