"""Timer start schedules: ISO 8601 dates, durations, repeating intervals and Quartz cron (croniter)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.events.schedule import ScheduleError, parse

LIVE = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)  # a Monday


def firings(kind: str, expression: str, count: int = 5) -> list[str]:
    schedule = parse(kind, expression)
    found, previous = [], LIVE
    for fired in range(count):
        moment = schedule.following(previous, LIVE, fired)
        if moment is None:
            break
        found.append(moment.isoformat())
        previous = moment
    return found


def test_weekdays_at_nine_in_quartz_cron() -> None:
    assert firings("cycle", "0 0 9 ? * MON-FRI", 6) == [
        "2026-01-05T09:00:00+00:00", "2026-01-06T09:00:00+00:00", "2026-01-07T09:00:00+00:00",
        "2026-01-08T09:00:00+00:00", "2026-01-09T09:00:00+00:00", "2026-01-12T09:00:00+00:00"]


def test_quartz_counts_days_of_the_week_from_sunday_as_one() -> None:
    # 6#3 is the third Friday in Quartz (the third Saturday in plain cron); 2-6 is Monday to Friday
    assert firings("cycle", "0 15 10 ? * 6#3", 2) == ["2026-01-16T10:15:00+00:00", "2026-02-20T10:15:00+00:00"]
    assert firings("cycle", "0 0 7 ? * 2-6", 1) == ["2026-01-06T07:00:00+00:00"]
    assert firings("cycle", "0 0 12 1 1 ? 2027", 2) == ["2027-01-01T12:00:00+00:00"]


def test_iso_repeating_intervals() -> None:
    assert firings("cycle", "R/PT1H", 3) == ["2026-01-05T09:30:00+00:00", "2026-01-05T10:30:00+00:00",
                                             "2026-01-05T11:30:00+00:00"]
    assert firings("cycle", "R3/2026-01-01T09:00Z/P1D") == ["2026-01-01T09:00:00+00:00",
                                                           "2026-01-02T09:00:00+00:00",
                                                           "2026-01-03T09:00:00+00:00"]
    assert firings("cycle", "R/P1D/2026-01-07T00:00:00Z") == ["2026-01-06T08:30:00+00:00"]


def test_a_date_and_a_duration_fire_once() -> None:
    assert firings("date", "2026-03-01T09:00:00Z") == ["2026-03-01T09:00:00+00:00"]
    assert firings("date", "${'2036-11-14T11:12:22'}") == ["2036-11-14T11:12:22+00:00"]  # a constant expression
    assert firings("duration", "PT2H") == ["2026-01-05T10:30:00+00:00"]
    assert firings("duration", "PT0M") == ["2026-01-05T08:30:00+00:00"]  # at once, when the version goes live


@pytest.mark.parametrize(("kind", "expression", "why"), [
    ("cycle", "0/5 0/1 * 1/1 * ?", "at most once a minute"),
    ("cycle", "R/PT10S", "at most once a minute"),
    ("cycle", "every day", "neither an ISO 8601 repeating interval"),
    ("cycle", "0 0 25 * * ?", "not a valid Quartz cron"),
    ("cycle", "Rx/PT1H", "must be a number"),
    ("date", "tomorrow", "not an ISO 8601 date-time"),
    ("cycle", "${cycle}", "uses no variables"),
    ("duration", "", "no value"),
])
def test_what_cannot_be_scheduled_says_why(kind: str, expression: str, why: str) -> None:
    with pytest.raises(ScheduleError, match=why):
        parse(kind, expression)
