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
_default: Clock = _SYSTEM
_current: ContextVar[Clock | None] = ContextVar("incident_engine_clock", default=None)


def now() -> datetime:
    """The current UTC time: the context's clock (`use`), else the process default (`set_default`)."""
    return (_current.get() or _default).now()


def set_default(clock: Clock | None) -> None:
    """Make `clock` the process-wide default, seen by every thread (an in-thread Celery worker, the
    in-process scheduler); None restores the system clock. A ContextVar does not cross threads."""
    global _default
    _default = clock if clock is not None else _SYSTEM


def use(clock: Clock) -> object:
    """Make `clock` the active clock; returns a token for `reset`."""
    return _current.set(clock)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
