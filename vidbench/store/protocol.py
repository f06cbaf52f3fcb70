"""What a session and a sweep need of a results store, so that a store other than the SQLite file (the
in-memory one of `memory.py`, for tests) can serve them."""

from __future__ import annotations

from typing import Any, Collection, Iterable, Protocol, runtime_checkable

from vidbench.store.record import RunResult
from vidbench.suite.spec import RunSpec


@runtime_checkable
class RunStore(Protocol):
    """One run folder's results: one row per run id, written by the driver alone."""

    def statuses(self) -> dict[str, str]:
        """run_id → status of every stored run."""

    def write(self, spec: RunSpec, result: RunResult, suite: str = "") -> None:
        """Store one finished run, replacing an earlier row of the same run."""

    def write_many(self, pairs: Iterable[tuple[RunSpec, RunResult]], suite: str = "") -> None:
        """Store several finished runs, all or none."""

    def rows(self, parse: Collection[str] = ...) -> list[dict[str, Any]]:
        """Every stored run as a dict (`store/rows.py`), in the order first written or last replaced."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> "RunStore": ...

    def __exit__(self, *exc: object) -> None: ...
