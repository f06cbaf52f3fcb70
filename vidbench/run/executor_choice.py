"""Which executor a sweep runs on, checked before anything is imported, prepared or written."""

from __future__ import annotations

from vidbench.errors import UsageError

EXECUTORS = ("local", "ray")


def check_executor(kind: str, address: str | None = None) -> None:
    """Refuse an unknown executor, or an address without Ray."""
    if kind not in EXECUTORS:
        raise UsageError(f"--executor must be one of {', '.join(EXECUTORS)}, not {kind!r}")
    if address and kind != "ray":
        raise UsageError("--address only applies with --executor ray")
