"""One source of 'now' for the engine, so tests can move time without sleeping."""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to (tests, simulations)."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current = self.current + delta

    def set(self, when: datetime) -> None:
        self.current = when


_SYSTEM = SystemClock()
_current: ContextVar[Clock | None] = ContextVar("incident_engine_clock", default=None)


def now() -> datetime:
    """The current UTC time according to the active clock."""
    return (_current.get() or _SYSTEM).now()


def use(clock: Clock) -> object:
    """Make `clock` the active clock; returns a token for `reset`."""
    return _current.set(clock)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
