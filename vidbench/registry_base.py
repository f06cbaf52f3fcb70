"""A name → entry table shared by the model and dataset registries."""

from __future__ import annotations

import difflib
import fnmatch
from typing import Generic, Iterable, TypeVar

from vidbench.errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """Holds named entries; a duplicate name is an error, an unknown one suggests the closest."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> None:
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RegistryError(f"unknown {self.kind} {name!r}{hint}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def names(self, patterns: str | Iterable[str] | None = None) -> list[str]:
        """Sorted names matching any of the glob patterns (all names when none)."""
        if patterns is None:
            return sorted(self._entries)
        if isinstance(patterns, str):
            patterns = [patterns]
        pats = list(patterns)
        return sorted(n for n in self._entries if any(fnmatch.fnmatchcase(n, p) for p in pats))
