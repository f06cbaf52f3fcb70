"""Package faces resolved on first use (PEP 562): importing a package does not import what it re-exports,
so the CLI's help and usage errors, and readers of stores, never pay for torch or matplotlib."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_face(package: str, face: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`, resolving each name of `face` (name → defining module)
    on first access and keeping it in the package's namespace."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = face.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *face})

    return __getattr__, __dir__
