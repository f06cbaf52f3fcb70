"""Errors of the data stage.

`DatasetArgsError` is both a `SuiteError` and a `RegistryError` (exit code 2): suite expansion already
turns a RegistryError from a dataset's argument check into a SuiteError naming the entry, so a missing
root or annotation file is reported there, before anything runs.

The video errors take one message argument so that a DataLoader worker can re-raise them in the main
process (it rebuilds an exception as `type(message)`).
"""

from __future__ import annotations

from vidbench.errors import RegistryError, SuiteError, VidbenchError


class DatasetArgsError(SuiteError, RegistryError):
    """A dataset argument that cannot work: a missing path, an unknown option value."""


class DecodeError(VidbenchError):
    """A video could not be opened or decoded (unreadable, truncated, no video stream)."""

    def __init__(self, reason: str, path: str | None = None):
        self.reason, self.path = reason, path
        super().__init__(f"{path}: {reason}" if path else reason)


class CorruptVideoError(VidbenchError):
    """Raised under `on_corrupt: fail` when a video of the dataset cannot be read; names the file."""
