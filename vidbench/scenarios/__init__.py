"""Scenarios: the measurements a run is made of, one file each (see `base.py`). Importing the package
registers the built-in ones; a plugin or a test registers its own with `@register_scenario`."""

from __future__ import annotations

# Each module registers its scenario as it is imported.
from vidbench.scenarios import (accuracy, auto_batch, cost, data_pipeline, data_record, inference,  # noqa: F401
                                knn, precision_support, rss_peak, serving, training_step)
from vidbench.scenarios.base import SCENARIOS, Scenario, in_order, register_scenario, served
from vidbench.scenarios.context import RunContext

__all__ = ["SCENARIOS", "RunContext", "Scenario", "in_order", "register_scenario", "served"]
