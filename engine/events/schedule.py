"""When a timer start event fires: ISO 8601 dates, durations and repeating intervals, and Quartz cron.

Camunda 7 writes a timer start event as `timeDate` (one date-time), `timeDuration` (once, that long after
the version went live) or `timeCycle`: an ISO 8601 repeating interval (`R/PT1H`, `R3/2026-01-01T09:00Z/P1D`,
`R/P1D/2026-06-01T00:00Z`) or a Quartz cron expression (`0 0 9 ? * MON-FRI`: seconds, minutes, hours, day of
month, month, day of week 1-7 = SUN-SAT, optional year). Cron is evaluated by croniter, after translating
Quartz's day-of-week numbers (croniter counts 0-6 from Sunday). Pure: times in, times out, all UTC.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter

from engine.calendar import parse_duration

MIN_INTERVAL = timedelta(minutes=1)  # each firing starts an incident: never more often than this
CRON_MIN_INTERVAL = timedelta(seconds=1)  # a cron on a boundary or event-subprocess timer: at most once a second
MAX_FIRINGS = 100_000
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?/,#\-LW]+$")


class ScheduleError(ValueError):
    """A timer start expression this engine cannot schedule (the message says why)."""


@dataclass(frozen=True)
class Schedule:
    """A parsed timer start: `kind` date | duration | cycle | cron. `start` (cycles) is the first firing,
    or None to count from the version going live; `repeats` None means for ever."""

    kind: str
    expression: str
    start: datetime | None = None
    period: str | None = None  # ISO 8601 duration of a cycle
    repeats: int | None = None
    end: datetime | None = None
    cron: str | None = None  # croniter form (seconds first)

    def first(self, live_since: datetime) -> datetime | None:
        """The first firing of a version that went live at `live_since`."""
        return self.following(live_since, live_since, 0)

    def following(self, previous: datetime, live_since: datetime, fired: int) -> datetime | None:
        """The firing after `previous` (the last one, or the go-live time before any); None when done.

        `fired` is how many firings there were, for `R3/...` cycles.
        """
        if self.kind == "date":
            assert self.start is not None
            return self.start if fired == 0 else None
        if self.kind == "duration":
            return parse_duration(self.period or "", live_since) if fired == 0 else None
        if self.kind == "cron":
            assert self.cron is not None
            return _cron_next(self.cron, previous)
        if self.repeats is not None and fired >= self.repeats:
            return None
        if fired == 0:
            moment = self.start if self.start is not None else parse_duration(self.period or "", live_since)
        else:
            moment = parse_duration(self.period or "", previous)
        if self.end is not None and moment > self.end:
            return None
        return moment


def parse(kind: str, expression: str) -> Schedule:
    """A Schedule for a timer start event's `timeDate`, `timeDuration` or `timeCycle` (kind date,
    duration or cycle); raises ScheduleError."""
    text = _constant((expression or "").strip())
    if not text:
        raise ScheduleError("the timer has no value")
    if kind == "date":
        return Schedule("date", text, start=_moment(text))
    if kind == "duration":
        try:
            parse_duration(text, datetime(2026, 1, 1, tzinfo=UTC))
        except ValueError as err:
            raise ScheduleError(f"{text!r} is not an ISO 8601 duration ({err})") from None
        return Schedule("duration", text, period=text)
    if not text.upper().startswith("R"):
        return _cron(text)
    return _cycle(text)


def _constant(text: str) -> str:
    """A `${...}` value worked out now: it may use no variables, since none exist before the incident."""
    if "${" not in text and "#{" not in text:
        return text
    from engine.expressions import ExpressionError, compile_expression

    try:
        value = compile_expression(text).evaluate({}, {})
    except ExpressionError as err:
        raise ScheduleError(f"a timer start event needs a value that uses no variables, since none exist before "
                            f"the incident starts ({err})") from None
    if not isinstance(value, str):
        raise ScheduleError(f"the timer expression gives {type(value).__name__}, not an ISO 8601 text")
    return value.strip()


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ScheduleError(f"{text!r} is not an ISO 8601 date-time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _period(text: str, anchor: datetime) -> timedelta:
    try:
        step = parse_duration(text, anchor) - anchor
    except ValueError as err:
        raise ScheduleError(f"{text!r} is not an ISO 8601 duration ({err})") from None
    if step < MIN_INTERVAL:
        raise ScheduleError(f"the timer fires every {step.total_seconds():g} seconds; a timer start event "
                            f"may fire at most once a minute (each firing starts an incident)")
    return step


def _cycle(text: str) -> Schedule:
    """`R[n]/duration`, `R[n]/start/duration` or `R[n]/duration/end`."""
    head, *parts = text.split("/")
    count = head[1:]
    if count and not count.isdigit():
        raise ScheduleError(f"{text!r}: the repetitions after R must be a number")
    repeats = int(count) if count else None
    if repeats is not None and not 0 < repeats <= MAX_FIRINGS:
        raise ScheduleError(f"{text!r}: between 1 and {MAX_FIRINGS} repetitions")
    if len(parts) == 1:
        start, period, end = None, parts[0], None
    elif len(parts) == 2 and parts[0].upper().startswith("P"):
        start, period, end = None, parts[0], _moment(parts[1])
    elif len(parts) == 2:
        start, period, end = _moment(parts[0]), parts[1], None
    else:
        raise ScheduleError(f"{text!r} is not an ISO 8601 repeating interval (R/PT1H, R3/2026-01-01T09:00Z/P1D)")
    _period(period, start or datetime(2026, 1, 1, tzinfo=UTC))
    return Schedule("cycle", text, start=start, period=period, repeats=repeats, end=end)


def _quartz_day_of_week(field: str) -> str:
    """Quartz counts 1-7 from Sunday; cron (croniter) 0-6. Names (MON-FRI) and `?` need no change."""
    return re.sub(r"(?<![#/0-9])([1-7])", lambda m: str(int(m.group(1)) - 1), field)


def is_cron(text: str) -> bool:
    """Is this timeCycle text a Quartz cron expression (not an ISO 8601 repeating interval or an expression)?"""
    text = (text or "").strip()
    return bool(text) and not text.upper().startswith("R") and "${" not in text and "#{" not in text \
        and len(text.split()) in (6, 7)


def parse_cron(text: str, min_interval: timedelta = MIN_INTERVAL,
               what: str = "a timer start event may fire at most once a minute (each firing starts an incident)",
               ) -> Schedule:
    """A Quartz cron Schedule; raises ScheduleError when it is not valid or fires more often than
    `min_interval` (`what` says why that bound)."""
    return _cron(text.strip(), min_interval, what)


def next_firing(schedule: Schedule, after: datetime) -> datetime | None:
    """The first firing of a cron Schedule strictly after `after` (None: it never fires again)."""
    assert schedule.cron is not None
    return _cron_next(schedule.cron, after)


def _cron(text: str, min_interval: timedelta = MIN_INTERVAL,
          what: str = "a timer start event may fire at most once a minute (each firing starts an incident)",
          ) -> Schedule:
    fields = text.split()
    if len(fields) not in (6, 7) or not all(_CRON_FIELD.match(f) for f in fields):
        raise ScheduleError(f"{text!r} is neither an ISO 8601 repeating interval (R/PT1H) nor a Quartz cron "
                            "expression (6 or 7 fields: seconds minutes hours day-of-month month day-of-week "
                            "[year])")
    fields = [("*" if f == "?" else f) for f in fields]
    fields[5] = _quartz_day_of_week(fields[5])
    converted = " ".join(fields)
    if not croniter.is_valid(converted, second_at_beginning=True):
        raise ScheduleError(f"{text!r} is not a valid Quartz cron expression")
    anchor = datetime(2026, 1, 1, tzinfo=UTC)
    first = _cron_next(converted, anchor)
    second = _cron_next(converted, first) if first is not None else None
    if first is not None and second is not None and second - first < min_interval:
        raise ScheduleError(f"{text!r} fires every {(second - first).total_seconds():g} seconds; {what}")
    return Schedule("cron", text, cron=converted)


def _cron_next(converted: str, after: datetime) -> datetime | None:
    try:
        moment = croniter(converted, after.astimezone(UTC), second_at_beginning=True).get_next(datetime)
    except (ValueError, KeyError, StopIteration):  # croniter gives up on dates that never come (30 Feb)
        return None
    return moment.astimezone(UTC) if isinstance(moment, datetime) else None
