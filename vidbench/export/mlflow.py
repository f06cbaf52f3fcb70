"""`vidbench results DIR --to mlflow`: a run folder logged to an MLflow experiment, for people who keep their
results in a tracker. The folder is one parent run holding the reports as artifacts; each vidbench run is a
child run with its axes as params, its figures as metrics and its status as a tag. A vidbench run already
logged to the experiment (tag `vidbench.run_id`) is not logged twice, so exporting again adds only new runs.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from vidbench.axes import AXIS_NAMES
from vidbench.errors import UsageError
from vidbench.metrics import COLUMNS

INSTALL = "--to mlflow needs mlflow, which is not installed: pip install vidbench[mlflow]"
PARAMS = ("model", "model_args", "family", "arch", "dataset", "dataset_args", *AXIS_NAMES)
REPORTS = ("report.md", "report.html")
MAX_PARAM = 6000  # MLflow's limit on a param's value


def _client_class():
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise UsageError(INSTALL) from None
    return MlflowClient


def _experiment(client, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found is not None else client.create_experiment(name)


def _logged_ids(client, experiment_id: str) -> set[str]:
    """The vidbench run ids already logged to the experiment."""
    runs = client.search_runs([experiment_id], max_results=50_000)
    return {r.data.tags["vidbench.run_id"] for r in runs if "vidbench.run_id" in r.data.tags}


def _figures(row) -> dict[str, float]:
    """Every stored figure the run holds, as MLflow metrics (numbers only; empty figures left out)."""
    out = {}
    for column in (*(c.name for c in COLUMNS), "duration_s"):
        value = row.get(column)
        if value is None or isinstance(value, str):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            out[column] = number
    return out


def _log_run(client, experiment_id: str, parent_id: str, row, suite: str) -> None:
    from mlflow.entities import Metric, Param, RunTag

    tags = {"mlflow.parentRunId": parent_id, "mlflow.runName": f"{row['variant']} {row['run_id']}",
            "vidbench.run_id": row["run_id"], "vidbench.status": row["status"], "vidbench.suite": suite}
    if row.get("error"):
        tags["vidbench.error"] = str(row["error"])[:MAX_PARAM]
    run = client.create_run(experiment_id, tags=tags)
    now = int(time.time() * 1000)
    params = [Param(k, str(row[k])[:MAX_PARAM]) for k in PARAMS if k in row and row[k] is not None]
    metrics = [Metric(k, v, now, 0) for k, v in _figures(row).items()]
    client.log_batch(run.info.run_id, metrics=metrics, params=params)
    client.set_terminated(run.info.run_id, "FINISHED" if row["status"] == "ok" else "FAILED")


def export_folder(folder: str | Path, tracking_uri: str | None = None, experiment: str | None = None) -> dict:
    """Log the folder's runs not logged before; returns {experiment, logged, already, parent_run_id}. MLflow's
    own refusal (a store it will not write, a server it cannot reach) is one line, exit 2."""
    client_class = _client_class()
    from mlflow.exceptions import MlflowException

    try:
        return _export(client_class(tracking_uri=tracking_uri), folder, experiment)
    except MlflowException as e:
        raise UsageError(f"mlflow: {str(e.message).strip().splitlines()[0]}") from None


def _export(client, folder: str | Path, experiment: str | None) -> dict:
    from vidbench.report.frame import load_run_folder

    run = load_run_folder(folder, details=False)
    experiment_id = _experiment(client, experiment or run.suite_name)
    seen = _logged_ids(client, experiment_id)
    rows = [r for r in run.frame.astype(object).where(run.frame.notna(), None).to_dict("records")
            if r["run_id"] not in seen]
    parent = client.create_run(experiment_id, tags={"mlflow.runName": f"{run.suite_name} ({len(rows)} runs)",
                                                    "vidbench.folder": str(Path(folder).resolve())})
    for row in rows:
        _log_run(client, experiment_id, parent.info.run_id, row, run.suite_name)
    for name in REPORTS:
        if (run.folder / name).is_file():
            client.log_artifact(parent.info.run_id, str(run.folder / name))
    client.set_terminated(parent.info.run_id)
    return {"experiment": experiment or run.suite_name, "logged": len(rows), "already": len(seen & set(run.frame["run_id"])),
            "parent_run_id": parent.info.run_id}
