"""What every report section builds from: a run folder's runs read once, their seed replicates folded, and
the views and plots more than one section (or a section and its plots) share. Each section computes the
rest of its own view (`vidbench/report/sections/`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import yaml

from vidbench.report import analysis
from vidbench.report import int8 as int8_view
from vidbench.report import serving as serving_view
from vidbench.report import runtimes as runtime_view
from vidbench.report.aggregate import aggregate
from vidbench.report.frame import RunFolder
from vidbench.report.plots import Plot, build_figures, model_styles
from vidbench.report.published_chart import published_plots
from vidbench.report.published_join import PublishedView, published_view

# The order runs are listed in (the store's order is the order they finished).
RUN_ORDER = ["dataset", "device", "family", "variant", "side", "clip_length", "batch_size", "precision"]


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs in reading order, with their constructor args as text ('attention=joint')."""
    shown = frame.sort_values(RUN_ORDER, kind="stable", na_position="last") if len(frame) else frame
    args = [v[len(m) + 1:-1] if v != m else "" for v, m in zip(shown["variant"], shown["model"])]
    return shown.assign(args=args).reset_index(drop=True)


@dataclass
class Report:
    """A run folder analysed: what the sections build their views from."""

    run: RunFolder
    configs: pd.DataFrame  # one row per configuration (seed replicates folded)
    runs: pd.DataFrame  # every run, in reading order
    exponents: pd.DataFrame  # the scaling fits, long
    plots: list[Plot]
    published: PublishedView | None = None  # full-size runs beside their models' published top-1
    runtimes: runtime_view.RuntimeView | None = None  # one setting under several runtimes
    int8: int8_view.Int8View | None = None  # int8 runs beside fp32 under the same runtime
    serving: serving_view.ServingView | None = None  # runs measured under LoadGen's load
    description: str = ""
    counts: dict = field(default_factory=dict)

    @property
    def frame(self) -> pd.DataFrame:
        """Every stored run, in the store's order."""
        return self.run.frame

    @property
    def chosen_from(self) -> pd.DataFrame:
        """What recommendations and fronts choose among: the configurations, or the runs when none folds."""
        return self.configs if len(self.configs) else self.frame

    def plots_in(self, section: str) -> list[Plot]:
        return [p for p in self.plots if p.section == section]


def _description(suite_yaml: str) -> str:
    try:
        return str((yaml.safe_load(suite_yaml) or {}).get("description") or "").strip()
    except yaml.YAMLError:
        return ""


def analyse(run: RunFolder) -> Report:
    """Reads the run folder's runs once into what the sections build from, plots drawn."""
    frame = run.frame
    configs = aggregate(frame)
    exponents = analysis.scaling_exponents(frame)
    published = published_view(configs if len(configs) else frame)
    plots = build_figures(frame, exponents, configs)
    if published is not None:
        plots = published_plots(published.runs, model_styles(frame)) + plots
    runtimes = runtime_view.runtime_view(frame)
    if runtimes is not None:
        plots = plots + runtime_view.runtime_plots(runtimes)
    int8 = int8_view.int8_view(frame)
    if int8 is not None:
        plots = plots + int8_view.int8_plots(int8)
    serving = serving_view.serving_view(frame)
    if serving is not None:
        plots = plots + serving_view.serving_plots(serving)
    return Report(run=run, configs=configs, runs=display_frame(frame), exponents=exponents, plots=plots,
                  published=published, runtimes=runtimes, int8=int8, serving=serving,
                  description=_description(run.suite_yaml) if run.suite_yaml else "",
                  counts=frame["status"].value_counts().to_dict())
