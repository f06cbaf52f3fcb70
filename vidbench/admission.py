"""Admission: whether a run can run, asked of every RunSpec before anything runs or is written.

Expansion (`suite/expand.py`) only multiplies; any producer of runs — a suite, a command that makes its own
RunSpecs — asks `admit(spec)` for the refusal line (None: admitted): the model's input limits, its dataset
taking the published test views, the backend (`Backend.unsupported`), the transfer protocol and the weights.
A refusal is an exit-2 error naming the run; `admit_suite` raises it as the suite's SuiteError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vidbench.backends import backend_for
from vidbench.data import dataset_info
from vidbench.errors import RegistryError, SuiteError
from vidbench.models import check_weights, model_info
from vidbench.suite.expand import ModelRun, combinations, unique_runs
from vidbench.suite.published import VIEW_KEYS
from vidbench.suite.paths import resolve_args
from vidbench.suite.protocols import check_protocol
from vidbench.suite.quantization import int8_reason
from vidbench.suite.serving_check import serving_reason
from vidbench.suite.schema import Suite
from vidbench.suite.spec import RunSpec

_FIX = " (drop it from the grid or add an `exclude` rule)"


class Admission:
    """One producer's admission; a checkpoint is read once per model and args, however many runs use it."""

    def __init__(self) -> None:
        self._weights: dict[str, str | None] = {}

    def weights(self, model: str, args: dict[str, Any], base_dir: str) -> str | None:
        """Why `args["weights"]` (a path relative to `base_dir`) does not fit `model`, or None."""
        if args.get("weights") is None:
            return None
        args = resolve_args("model", args, base_dir)
        key = json.dumps([model, args], sort_keys=True, default=str)
        if key not in self._weights:
            try:
                check_weights(model, args)
                self._weights[key] = None
            except RegistryError as e:
                self._weights[key] = str(e)
        return self._weights[key]

    def check_model(self, run: ModelRun, base_dir: str) -> None:
        """Expansion's per-entry check: the weights refused as the entry's error (`models[i] 'name': ...`)."""
        problem = self.weights(run.name, run.args, base_dir)
        if problem:
            raise RegistryError(problem)

    def __call__(self, spec: RunSpec) -> str | None:
        """The refusal line of `spec`, or None when it can run."""
        info = model_info(spec.model)
        args = f" {spec.model_args}" if spec.model_args else ""
        views = [k for k in VIEW_KEYS if k in spec.dataset_args]  # a hand-made spec's, which no suite checked
        if views and not all(dataset_info(spec.dataset).accepts(k) for k in views):
            return (f"model {spec.model!r}: published views need test_clips and test_crops, "
                    f"which dataset {spec.dataset!r} does not take")
        problem = info.input_limits(spec.model_args).violation(spec.clip_length, *spec.resolution)
        if problem:
            return f"model {spec.model!r}{args}: {problem}{_FIX}"
        refusal = backend_for(spec).unsupported(spec)
        if refusal:
            return f"model {spec.model!r}{args} on {spec.device}: {refusal}{_FIX}"
        problem = check_protocol(spec) or int8_reason(spec) or serving_reason(spec)
        if problem:
            return f"model {spec.model!r}{args}: {problem}"
        problem = self.weights(spec.model, spec.model_args, spec.suite_dir)
        return f"model {spec.model!r}{args}: {problem}" if problem else None


def admit(spec: RunSpec) -> str | None:
    """The refusal line of one run (None: it can run)."""
    return Admission()(spec)


def admit_all(specs: list[RunSpec], admission: Admission | None = None) -> list[RunSpec]:
    """`specs` when every one is admitted; else a SuiteError with the first refusal."""
    admission = admission or Admission()
    for spec in specs:
        refusal = admission(spec)
        if refusal:
            raise SuiteError(refusal)
    return specs


def admit_suite(suite: Suite, base_dir: str | Path | None = None) -> list[RunSpec]:
    """All runs of the suite in a stable order, minus `exclude`, each admitted: what `vidbench run` runs.
    Raises SuiteError naming model, key and value for the first malformed entry or refused run."""
    admission = Admission()
    specs = list(combinations(suite, base_dir, admission.check_model))
    return unique_runs(admit_all(specs, admission))
