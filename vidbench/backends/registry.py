"""The backends by runtime (the `runtimes` axis): each backend module registers its class here with
`@register_backend`, so adding a runtime is one file (and its name among `axes.RUNTIMES`). No torch."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from vidbench.backends.base import Backend

B = TypeVar("B", bound="type[Backend]")

BACKENDS: dict[str, "Backend"] = {}  # runtime → the backend that serves it


def register_backend(cls: B) -> B:
    """Class decorator: one instance of `cls` serves every run of the runtime `cls.name`."""
    if cls.name in BACKENDS:
        raise ValueError(f"a backend is already registered for the runtime {cls.name!r}")
    BACKENDS[cls.name] = cls()
    return cls


def backend_for(spec) -> "Backend":
    """The backend of the run's runtime."""
    return BACKENDS[getattr(spec, "runtime", "eager")]
