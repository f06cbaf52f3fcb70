"""Errors a user can cause, each mapped to the exit code the CLI returns (README.md, "Exit codes"; ARCHITECTURE.md)."""

from __future__ import annotations

from pathlib import Path


class VidbenchError(Exception):
    """Base of every error vidbench reports to a user as one line, without a traceback."""

    exit_code = 1


class SuiteError(VidbenchError):
    """The suite file is malformed or asks for something impossible; nothing is run or written."""

    exit_code = 2


class UsageError(VidbenchError):
    """A command was called with arguments that cannot work (missing folder, bad format)."""

    exit_code = 2


class RegistryError(VidbenchError):
    """An unknown or duplicate model/dataset name, or arguments its builder does not take."""

    exit_code = 2


def require_folder(path) -> Path:
    """`path` as a Path when it is a folder; a UsageError saying what it is otherwise."""
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(f"{str(folder)!r} is not a folder" if folder.exists() else f"{str(folder)!r} does not exist")
    return folder
