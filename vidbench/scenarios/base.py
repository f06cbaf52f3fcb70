"""What a scenario is and where scenarios are kept. A scenario is one measurement of a run (cost, inference,
a training step, accuracy, ...): it declares the suite metrics it serves and the suite blocks it reads, and
runs against the run's `RunContext`. Each registers itself with `@register_scenario`; the runner runs the
registered ones a run asks for, in their declared `order`. Adding a scenario is one file. No torch here."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, TypeVar

if TYPE_CHECKING:
    from vidbench.scenarios.context import RunContext


class Scenario:
    """One measurement of a run. `applies` decides from the run (by default: it asks for a metric served
    here); `run` stores its figures through the context (`ctx.put`, named by `metrics.COLUMNS`)."""

    name: ClassVar[str]
    order: ClassVar[int]  # where it runs among the others (the runner's fixed order, lowest first)
    serves: ClassVar[frozenset[str]] = frozenset()  # the suite metrics (metrics.MEASURES) it measures
    reads: ClassVar[tuple[str, ...]] = ()  # the suite blocks it is configured by ("benchmark", "train")

    def applies(self, ctx: "RunContext") -> bool:
        return bool(ctx.wanted & self.serves)

    def run(self, ctx: "RunContext") -> None:
        raise NotImplementedError


S = TypeVar("S", bound=type[Scenario])

SCENARIOS: dict[str, Scenario] = {}  # name → scenario; run in `order`


def register_scenario(cls: S) -> S:
    """Class decorator: the scenario runs in every run that it `applies` to, at its `order`."""
    if cls.name in SCENARIOS:
        raise ValueError(f"a scenario named {cls.name!r} is already registered")
    SCENARIOS[cls.name] = cls()
    return cls


def in_order() -> list[Scenario]:
    """The registered scenarios in their declared order."""
    return sorted(SCENARIOS.values(), key=lambda s: s.order)


def served() -> frozenset[str]:
    """Every suite metric some scenario measures."""
    return frozenset().union(*(s.serves for s in SCENARIOS.values()))
