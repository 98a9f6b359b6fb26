"""Durations as distributions: sampled from the centre's own history, or declared for a new procedure.

A declared distribution is `{"distribution": kind, ...}` with durations as seconds or ISO 8601 (`PT10M`):
`fixed` (value), `exponential` (mean), `uniform` (low, high), `triangular` (low, mode, high),
`lognormal` (mean, sd), `empirical` (values: a list of observed durations).
"""
from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.calendar import parse_duration
from engine.errors import Problem

KINDS = {"fixed": ("value",), "exponential": ("mean",), "uniform": ("low", "high"),
         "triangular": ("low", "mode", "high"), "lognormal": ("mean", "sd"), "empirical": ("values",)}
_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)


def seconds(value: Any) -> float:
    """A duration as seconds: a number of seconds, or ISO 8601 text; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or ISO 8601 text such as PT10M")
    if isinstance(value, int | float):
        if value < 0 or math.isnan(value):
            raise ValueError("a duration cannot be negative")
        return float(value)
    return (parse_duration(str(value), _REFERENCE) - _REFERENCE).total_seconds()


@dataclass(frozen=True)
class Distribution:
    kind: str
    params: tuple[float, ...] = ()
    values: tuple[float, ...] = ()

    def sample(self, rng: random.Random) -> float:
        if self.kind == "empirical":
            return rng.choice(self.values)
        if self.kind == "fixed":
            return self.params[0]
        if self.kind == "exponential":
            return rng.expovariate(1.0 / self.params[0]) if self.params[0] > 0 else 0.0
        if self.kind == "uniform":
            return rng.uniform(*self.params)
        if self.kind == "triangular":
            low, mode, high = self.params
            return rng.triangular(low, high, mode)
        mean, sd = self.params  # lognormal from the mean and sd of the duration itself
        if mean <= 0:
            return 0.0
        sigma2 = math.log(1 + (sd / mean) ** 2)
        return rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))

    def mean(self) -> float:
        if self.kind == "empirical":
            return sum(self.values) / len(self.values)
        if self.kind in ("uniform",):
            return sum(self.params) / 2
        if self.kind == "triangular":
            return sum(self.params) / 3
        return self.params[0]

    def describe(self) -> dict[str, Any]:
        if self.kind == "empirical":
            ordered = sorted(self.values)
            return {"distribution": "empirical", "samples": len(ordered), "mean": round(self.mean(), 1),
                    "median": ordered[len(ordered) // 2]}
        return {"distribution": self.kind, **dict(zip(KINDS[self.kind], self.params, strict=True))}


def empirical(values: Sequence[float]) -> Distribution | None:
    kept = tuple(float(v) for v in values if v is not None and v >= 0)
    return Distribution("empirical", values=kept) if kept else None


def declared(raw: Any, field: str) -> tuple[Distribution | None, list[Problem]]:
    """A declared distribution, or the problems with it (each naming `field`)."""
    if not isinstance(raw, Mapping):
        return None, [Problem("a distribution is an object such as {\"distribution\": \"exponential\", "
                              "\"mean\": \"PT10M\"}", field=field)]
    kind = raw.get("distribution")
    if kind not in KINDS:
        return None, [Problem(f"distribution is one of {', '.join(KINDS)}", field=f"{field}.distribution")]
    unknown = [k for k in raw if k not in ("distribution", *KINDS[str(kind)])]
    problems = [Problem(f"{kind} takes {', '.join(KINDS[str(kind)])}", field=f"{field}.{k}") for k in unknown]
    try:
        if kind == "empirical":
            values = raw.get("values")
            if not isinstance(values, list) or not values:
                raise ValueError("values is a non-empty list of durations")
            return (Distribution("empirical", values=tuple(seconds(v) for v in values)) if not problems else None,
                    problems)
        missing = [k for k in KINDS[str(kind)] if k not in raw]
        if missing:
            raise ValueError(f"{kind} needs {', '.join(missing)}")
        params = tuple(seconds(raw[k]) for k in KINDS[str(kind)])
    except ValueError as err:
        return None, [*problems, Problem(str(err), field=field)]
    if kind in ("uniform", "triangular") and not params[0] <= params[-1]:
        problems.append(Problem("low must not be above high", field=field))
    if kind == "triangular" and not params[0] <= params[1] <= params[2]:
        problems.append(Problem("mode lies between low and high", field=field))
    return (Distribution(str(kind), params) if not problems else None), problems
