"""The driver's own cost per run, measured in a process of its own: `python -m tests.benchmarks.driver_scale
RUNS FOLDER` prints the figures as JSON.

The runs' backend takes ~0 s: a plugin metric (`instant`) whose one-file scenario stores a constant, on a
model that is never called, so what is timed is the driver — planning, handing each spec to the local
executor's warm worker and its result back over the pipe, one store transaction per run, a progress line
per run — and the worker's fixed per-run bookkeeping (its environment record). Then the same sweep again
(resume: nothing to run) and a report of every run rendered. Its own process: the plugin registers a metric,
which must not leak into the test process's tables.
"""

from __future__ import annotations

import io
import json
import sys
import textwrap
import time
from contextlib import redirect_stdout
from pathlib import Path

PLUGIN = textwrap.dedent("""\
    import torch.nn as nn

    from vidbench import metrics, register_model
    from vidbench.scenarios import Scenario, register_scenario

    metrics.register_measure(metrics.Measure("instant", "a constant, stored at once (the driver benchmark)"),
                             (metrics.Column("instant_value", "instant", "instant value", None,
                                             not_compared="a constant", kind="int"),))


    @register_scenario
    class Instant(Scenario):
        name = "instant"
        order = 1
        serves = frozenset({"instant"})

        def run(self, ctx):
            ctx.put("instant_value", 1)


    @register_model(family="cnn")
    def instant_model(num_classes: int = 4, k: int = 0):
        return nn.Linear(3, num_classes)
    """)

SUITE = textwrap.dedent("""\
    name: driver-scale
    plugins: [plugin.py]
    models:
      - name: instant_model
        grid: {{k: {ks}}}
    datasets: [{{name: random, args: {{num_classes: 4}}}}]
    resolutions: [16]
    clip_lengths: [2]
    batch_sizes: [1]
    metrics: [instant]
    """)


def write_suite(folder: Path, runs: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plugin.py").write_text(PLUGIN)
    suite = folder / "suite.yaml"
    suite.write_text(SUITE.format(ks=list(range(runs))))
    return suite


def sweep(suite: Path, output: Path) -> dict:
    """One `vidbench run` as the CLI does it for a log (a line per finished run), timed by phase."""
    from vidbench.cli import _line_per_run
    from vidbench.run.eta import Eta
    from vidbench.run.session import execute_sweep, prepare_sweep

    started = time.perf_counter()
    prepared = prepare_sweep(suite, output)
    plan = prepared.plan(False, False)
    todo = sum(1 for p in plan if p.action == "run")
    planned = time.perf_counter()
    on_end, _ = _line_per_run(todo, False, Eta(todo))
    ends: list[float] = []
    statuses: dict[str, int] = {}

    def ended(spec, result):
        on_end(spec, result)
        ends.append(time.perf_counter())
        statuses[result.status] = statuses.get(result.status, 0) + 1

    with redirect_stdout(io.StringIO()):  # the progress lines are written, as to a log, but not kept
        outcome = execute_sweep(prepared, plan, on_end=ended)
    done = time.perf_counter()
    # runs/s between the first and the last result: the worker's start (imports) is not a per-run cost
    rate = (len(ends) - 1) / (ends[-1] - ends[0]) if len(ends) > 1 else None
    return {"runs": len(plan), "executed": outcome.executed, "statuses": statuses, "plan_s": planned - started,
            "sweep_s": done - started, "runs_s": rate, "exit_code": outcome.exit_code,
            "report_error": outcome.report_error}


def main(runs: int, folder: Path) -> dict:
    from vidbench.run.session import render_folder

    suite = write_suite(folder, runs)
    output = folder / "out"
    first = sweep(suite, output)
    resume = sweep(suite, output)
    started = time.perf_counter()
    reports, error = render_folder(output)
    render_s = time.perf_counter() - started
    return {"first": first, "resume": resume, "render_s": render_s, "render_error": error,
            "report_bytes": sum(Path(r).stat().st_size for r in reports)}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), Path(sys.argv[2]))))
