"""Business-day and ISO 8601 duration arithmetic for regulatory clocks (FCA DISP, GDPR) and BPMN timers."""
from __future__ import annotations

import calendar as _stdlib_calendar
import math
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # imported on the first business-day question: 9 MB a process that never asks one
    import holidays

MAX_BUSINESS_DAYS = 3_660  # about 14 years; a bound so that a model cannot make us loop for ever

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?",
    re.IGNORECASE,
)


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int) -> holidays.HolidayBase:
    import holidays

    try:
        return holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as err:  # unknown country or subdivision
        raise ValueError(str(err)) from err


def warm(country: str = "GB", subdivision: str | None = "ENG", year: int | None = None) -> None:
    """Load the holiday calendar (the `holidays` package imports some 280 modules: about 400 ms of CPU once
    per process) and this year's and the next years' holidays, so that this one-time work is never done
    inside a metered transition (engine.runtime.budget) by the first business-day clock."""
    year = year or datetime.now(UTC).year
    for each in (year - 1, year, year + 1, year + 2):
        try:
            _holidays(country, subdivision, each)
        except ValueError:
            return  # an unknown country is reported where the calendar is used


def is_business_day(day: date, *, country: str = "GB", subdivision: str | None = "ENG") -> bool:
    """Monday to Friday and not a public (bank) holiday of `country`/`subdivision`."""
    return day.weekday() < 5 and day not in _holidays(country, subdivision, day.year)


def business_deadline(
    start: datetime,
    days: int,
    *,
    country: str = "GB",
    subdivision: str = "ENG",
    close_of_business: time = time(17, 0),
    tz: str = "Europe/London",
) -> datetime:
    """Close of business on the `days`-th business day after the day of `start`, as an aware UTC datetime.

    The rule follows FCA DISP 1.5/1.6 wording ("by close of business on the third business day following
    the day on which it is received"):

    * the day of receipt is the calendar date of `start` in local time `tz` (a naive `start` is UTC); the
      time of day does not matter, and that day itself is never counted, even if it is a business day;
    * business days are Monday to Friday that are not bank holidays of `country`/`subdivision` in the
      `holidays` package (GB/ENG: England and Wales, including substitute days such as 28 Dec 2026);
    * the deadline is `close_of_business` local time on the last counted day, converted to UTC, so it is
      16:00 UTC in British Summer Time and 17:00 UTC in winter;
    * `days=0` means close of business on the day of receipt if that is a business day, otherwise on the
      next business day.
    """
    if not 0 <= days <= MAX_BUSINESS_DAYS:
        raise ValueError(f"business days must be between 0 and {MAX_BUSINESS_DAYS}, not {days}")
    zone = ZoneInfo(tz)
    aware = start if start.tzinfo is not None else start.replace(tzinfo=UTC)
    day = aware.astimezone(zone).date()
    counted = 0
    if days == 0:
        while not is_business_day(day, country=country, subdivision=subdivision):
            day += timedelta(days=1)
    while counted < days:
        day += timedelta(days=1)
        if is_business_day(day, country=country, subdivision=subdivision):
            counted += 1
    return datetime.combine(day, close_of_business, tzinfo=zone).astimezone(UTC)


def _add_months(moment: datetime, months: int) -> datetime:
    year, month = divmod(moment.month - 1 + months, 12)
    year += moment.year
    if not 1 <= year <= 9999:
        raise ValueError("duration goes beyond the year 9999")
    day = min(moment.day, _stdlib_calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def parse_duration(text: str, start: datetime) -> datetime:
    """`start` plus the ISO 8601 duration `text` (PnYnMnWnDTnHnMnS).

    Years and months are calendar-aware and must be whole numbers (31 Jan + P1M = 28/29 Feb); weeks, days,
    hours, minutes and seconds may be fractional (`PT1.5S`, `P0,5D`). Raises ValueError on bad input.
    """
    if not isinstance(text, str) or len(text) > 100:
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    match = _DURATION.fullmatch(text.strip())
    stripped = text.strip().upper()
    if not match or stripped in ("P", "PT") or stripped.endswith("T") or not any(match.groups()):
        raise ValueError(f"not an ISO 8601 duration: {text!r}")
    years, months, weeks, days, hours, minutes, seconds = (
        float(v.replace(",", ".")) if v else 0.0 for v in match.groups()
    )
    if not (years.is_integer() and months.is_integer()):
        raise ValueError(f"years and months must be whole numbers in a duration: {text!r}")
    try:
        moved = _add_months(start, int(years) * 12 + int(months))
        return moved + timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError as err:
        raise ValueError(f"duration too large: {text!r}") from err


def parse_signed_duration(text: str, start: datetime) -> datetime:
    """Like `parse_duration`, but a leading '-' counts back from `start` (`-PT3600S` is an hour ago)."""
    stripped = text.strip() if isinstance(text, str) else text
    if isinstance(stripped, str) and stripped.startswith("-"):
        return start - (parse_duration(stripped[1:], start) - start)
    return parse_duration(stripped, start)


def signed_iso_duration(delta: timedelta) -> str:
    """`PT{seconds}S`, or `-PT{seconds}S` when `delta` is negative: a deadline that has already passed keeps
    its true moment, so a timer fires at once and can report how late it is. Whole seconds, never later."""
    seconds = delta.total_seconds()
    return iso_duration(delta) if seconds >= 0 else f"-PT{math.ceil(-seconds)}S"


def iso_duration(delta: timedelta) -> str:
    """`PT{seconds}S`, rounded up to a whole second so a timer never fires early; negative is PT0S."""
    return f"PT{max(0, math.ceil(delta.total_seconds()))}S"
