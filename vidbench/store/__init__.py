"""The results store."""

from vidbench.store.record import METRIC_COLUMNS, RESULT_COLUMNS, STATUSES, RunResult
from vidbench.store.sqlite import STORE_NAME, ResultStore

__all__ = ["METRIC_COLUMNS", "RESULT_COLUMNS", "STATUSES", "STORE_NAME", "ResultStore", "RunResult"]
