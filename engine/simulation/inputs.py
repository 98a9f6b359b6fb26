"""What a simulation runs on: arrivals, durations, gateway choices, timer durations and agents per lane."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .distributions import Distribution

MAX_REPLICATIONS = 50
MAX_ARRIVALS = 200_000  # over the whole window, per replication


@dataclass(frozen=True)
class Arrivals:
    """Either the window's real arrivals per hour (`hourly`: the start data of each incident that arrived in
    hour h, replayed at a random moment of that hour) or a declared rate (`per_hour`, a Poisson process, one
    rate or 24 rates by hour of day, with start data drawn from `data`)."""

    hourly: tuple[tuple[dict[str, Any], ...], ...] = ()
    per_hour: tuple[float, ...] = ()
    data: tuple[dict[str, Any], ...] = ()

    def expected(self, hours: int) -> float:
        if self.hourly:
            return float(sum(len(h) for h in self.hourly))
        rates = self.per_hour or (0.0,)
        return sum(rates[h % len(rates)] for h in range(hours))


@dataclass(frozen=True)
class Inputs:
    hours: int
    arrivals: Arrivals
    durations: dict[str, Distribution]  # work time of each user task, duration of other activities
    branches: dict[str, dict[str, float]]  # gateway -> flow -> weight, on the first pass
    agents: dict[str, int]  # lane (candidate group) -> agents
    retry_branches: dict[str, dict[str, float]] = field(default_factory=dict)  # on later passes
    timers: dict[str, Distribution] = field(default_factory=dict)  # declared timer durations
    replications: int = 10
    seed: int = 1
    sources: dict[str, str] = field(default_factory=dict)  # element -> "history" | "declared"

    @property
    def horizon(self) -> float:
        return self.hours * 3600.0
