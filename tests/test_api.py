"""The Python API: `vidbench.run_suite` runs a suite (a file or a dict) as `vidbench run` does and
`vidbench.load_results` gives the folder's table with the CSV export's columns; the README's "Adding a
model" example, taken from the README as written, runs through it with every metric."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Iterator

import pandas as pd
import pytest
from typer.testing import CliRunner

import vidbench
from vidbench.cli import app
from vidbench.errors import SuiteError, UsageError
from vidbench.run.executors import Event

# Every built-in model and dataset registered before a test isolates the registries: registered inside one,
# they would leave with it (the zoo's modules stay imported), and later tests would find no built-in model.
vidbench.list_models()
vidbench.list_datasets()

README = Path(__file__).resolve().parents[1] / "README.md"
EVERY_METRIC = ["params", "flops", "memory", "latency", "throughput", "train_throughput", "accuracy"]


class InProcess:
    """Runs each spec in this process (the worker's `execute`), for a suite small enough not to need workers."""

    def __init__(self, folder: Path):
        self.folder = folder

    def execute(self, specs) -> Iterator[Event]:
        from vidbench.run.runner import execute

        for spec in specs:
            yield Event("start", spec)
            yield Event("end", spec, execute(spec, self.folder))


def readme_plugin() -> str:
    """The plugin file of README's "Adding a model", exactly as the README writes it."""
    text = README.read_text()
    block = re.search(r"```python\n# my_models.py\n(.*?)```", text, re.S)
    assert block, "README's 'Adding a model' example is no longer a '# my_models.py' block"
    return block.group(1)


def _suite(tmp_path: Path, metrics: list[str], **extra) -> dict:
    (tmp_path / "my_models.py").write_text(readme_plugin())
    return {"name": "api", "plugins": ["my_models.py"], "models": ["my_tiny3d"],
            "datasets": [{"name": "synthetic-motion", "args": {"num_classes": 2, "train_size": 4, "val_size": 2}}],
            "resolutions": [16], "clip_lengths": [4], "batch_sizes": [2], "metrics": metrics,
            "train": {"epochs": 1, "batch_size": 2}, "benchmark": {"warmup": 1, "repeats": 2}, **extra}


def _run_readme_plugin(tmp_path: Path, metrics: list[str]) -> dict:
    out = tmp_path / "out"
    frame = vidbench.run_suite(_suite(tmp_path, metrics), output=out, executor=InProcess(out), base_dir=tmp_path)
    assert frame.attrs["exit_code"] == 0 and frame.attrs["report_error"] is None
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    (row,) = frame.to_dict("records")
    assert row["status"] == "ok", row["error"]
    return row


@pytest.mark.slow
def test_the_readme_plugin_runs_as_written_with_every_metric(tmp_path, isolated_registries):
    row = _run_readme_plugin(tmp_path, EVERY_METRIC)
    for column in ("params", "gmacs", "peak_mem_mb", "latency_ms_p50", "throughput_clips_s",
                   "train_throughput_clips_s", "train_peak_mem_mb", "top1"):
        assert pd.notna(row[column]) and row[column] >= 0, column


def test_the_readme_plugin_measures_the_training_step_memory(tmp_path, isolated_registries):
    """Memory reaches the training plan, where a new arch was a KeyError (issue 25); the default run's share
    of the example above."""
    row = _run_readme_plugin(tmp_path, ["params", "memory"])
    assert row["params"] > 0 and row["peak_mem_mb"] > 0 and row["train_peak_mem_mb"] > 0


def test_load_results_has_the_columns_of_the_csv_export(tmp_path, isolated_registries):
    out = tmp_path / "out"
    vidbench.run_suite(_suite(tmp_path, ["params", "flops"], seeds=[0, 1]), output=out, executor=InProcess(out),
                       base_dir=tmp_path)
    for aggregate, flag in ((False, []), (True, ["--aggregate"])):
        csv = CliRunner().invoke(app, ["results", str(out), "--format", "csv", *flag]).stdout
        assert list(vidbench.load_results(out, aggregate=aggregate).columns) == list(pd.read_csv(io.StringIO(csv)))
    assert len(vidbench.load_results(out)) == 2 and len(vidbench.load_results(out, aggregate=True)) == 1


def test_a_suite_file_and_a_rerun_with_nothing_to_do(tmp_path, isolated_registries):
    import yaml

    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(_suite(tmp_path, ["params"])))
    out = tmp_path / "out"
    first = vidbench.run_suite(suite, output=out, executor=InProcess(out))
    again = vidbench.run_suite(suite, output=out, executor=InProcess(out))
    assert first["run_id"].tolist() == again["run_id"].tolist() and again.attrs["exit_code"] == 0


def test_bad_input_raises_the_clis_errors(tmp_path):
    with pytest.raises(SuiteError):
        vidbench.run_suite({"name": "x", "models": ["no_such_model"]}, output=tmp_path / "o")
    with pytest.raises(UsageError, match="not a vidbench run folder"):
        vidbench.load_results(tmp_path)
