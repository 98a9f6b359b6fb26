"""Business-day deadlines (FCA DISP three-business-day rule) and ISO 8601 durations."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from engine.calendar import business_deadline, is_business_day, iso_duration, parse_duration


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("received", "expected", "why"),
    [
        # Wed 23 Dec 2026: Thu 24 (1), Fri 25 Christmas, weekend, Mon 28 Boxing Day substitute, Tue 29 (2), Wed 30 (3)
        (utc(2026, 12, 23, 10), utc(2026, 12, 30, 17), "Christmas and the Boxing Day substitute"),
        # Thu 2 Apr 2026: Good Friday 3 Apr, weekend, Easter Monday 6 Apr; Tue 7, Wed 8, Thu 9; BST
        (utc(2026, 4, 2, 9), utc(2026, 4, 9, 16), "Easter, in summer time (17:00 BST = 16:00 UTC)"),
        # Fri 6 Mar 2026: Mon 9, Tue 10, Wed 11; GMT
        (utc(2026, 3, 6, 16, 59), utc(2026, 3, 11, 17), "a Friday start, winter time"),
        # Sat 7 Mar 2026: received at the weekend, still counted from the following days
        (utc(2026, 3, 7, 12), utc(2026, 3, 11, 17), "a Saturday start"),
        # Mon 15 Jun 2026: Tue 16, Wed 17, Thu 18 at 17:00 BST
        (utc(2026, 6, 15, 8), utc(2026, 6, 18, 16), "summer time"),
        # 23:30 UTC on Sun 14 Jun is 00:30 BST on Mon 15 Jun: the local day of receipt is the Monday
        (utc(2026, 6, 14, 23, 30), utc(2026, 6, 18, 16), "the local day of receipt, not the UTC one"),
        # Wed 31 Dec 2025: New Year's Day, then Fri 2 Jan (1), Mon 5 (2), Tue 6 (3)
        (utc(2025, 12, 31, 12), utc(2026, 1, 6, 17), "New Year in England"),
        # Thu 26 Mar 2026 (GMT) to Tue 31 Mar (BST): the clocks change on Sun 29 Mar
        (utc(2026, 3, 26, 12), utc(2026, 3, 31, 16), "across the change to summer time"),
    ],
)
def test_three_business_days_in_england_and_wales(received: datetime, expected: datetime, why: str) -> None:
    deadline = business_deadline(received, 3)
    assert deadline == expected, why
    assert deadline.tzinfo is UTC


def test_scotland_has_the_second_of_january() -> None:
    received = utc(2025, 12, 31, 12)
    # Scotland: 1 and 2 Jan are holidays, so Mon 5 (1), Tue 6 (2), Wed 7 (3)
    assert business_deadline(received, 3, subdivision="SCT") == utc(2026, 1, 7, 17)
    assert business_deadline(received, 3, subdivision="ENG") == utc(2026, 1, 6, 17)
    # Scotland has no Easter Monday holiday: Thu 2 Apr 2026 -> Mon 6 (1), Tue 7 (2), Wed 8 (3)
    assert business_deadline(utc(2026, 4, 2, 9), 3, subdivision="SCT") == utc(2026, 4, 8, 16)


def test_options_and_edge_cases() -> None:
    # a naive start is UTC
    assert business_deadline(datetime(2026, 3, 6, 12), 1) == utc(2026, 3, 9, 17)
    assert business_deadline(utc(2026, 3, 6, 12), 1, close_of_business=time(18, 30)) == utc(2026, 3, 9, 18, 30)
    assert business_deadline(utc(2026, 3, 6, 12), 1, country="US", subdivision="NY", tz="America/New_York") == \
        utc(2026, 3, 9, 21)  # 17:00 EDT on Mon 9 Mar 2026
    # zero days: today if a business day, else the next one
    assert business_deadline(utc(2026, 3, 6, 12), 0) == utc(2026, 3, 6, 17)
    assert business_deadline(utc(2026, 3, 7, 12), 0) == utc(2026, 3, 9, 17)
    assert business_deadline(utc(2026, 1, 5, 9), 20).date() == datetime(2026, 2, 2).date()
    assert not is_business_day(datetime(2026, 12, 28).date())
    assert is_business_day(datetime(2026, 12, 29).date())
    for bad in (-1, 10**9):
        with pytest.raises(ValueError):
            business_deadline(utc(2026, 3, 6), bad)
    with pytest.raises(ValueError):
        business_deadline(utc(2026, 3, 6), 1, country="XX")


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        ("PT4H", utc(2026, 1, 5, 9), utc(2026, 1, 5, 13)),
        ("PT72H", utc(2026, 1, 5, 9), utc(2026, 1, 8, 9)),
        ("P3D", utc(2026, 1, 5, 9), utc(2026, 1, 8, 9)),
        ("P2W", utc(2026, 1, 5, 9), utc(2026, 1, 19, 9)),
        ("P1M", utc(2026, 1, 31, 9), utc(2026, 2, 28, 9)),
        ("P1M", utc(2028, 1, 31, 9), utc(2028, 2, 29, 9)),
        ("P1Y", utc(2028, 2, 29), utc(2029, 2, 28)),
        ("P1Y2M3DT4H5M6S", utc(2026, 1, 1), utc(2027, 3, 4, 4, 5, 6)),
        ("P14M", utc(2026, 11, 15), utc(2028, 1, 15)),
        ("PT1.5S", utc(2026, 1, 1), utc(2026, 1, 1) + timedelta(seconds=1.5)),
        ("PT0,25H", utc(2026, 1, 1), utc(2026, 1, 1, 0, 15)),
        ("pt30m", utc(2026, 1, 1), utc(2026, 1, 1, 0, 30)),
        ("PT0S", utc(2026, 1, 1), utc(2026, 1, 1)),
    ],
)
def test_parse_duration(text: str, start: datetime, expected: datetime) -> None:
    assert parse_duration(text, start) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "P1DT", "4H", "PT4", "P1.5M", "P1H", "PT1D", "P-1D", "1 day",
                                  "P" + "9" * 200 + "D", "P99999999D", "P99999Y"])
def test_parse_duration_refuses_bad_input(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text, utc(2026, 1, 1))


def test_iso_duration() -> None:
    assert iso_duration(timedelta(hours=1)) == "PT3600S"
    assert iso_duration(timedelta(seconds=0.2)) == "PT1S"
    assert iso_duration(timedelta(0)) == "PT0S"
    assert iso_duration(timedelta(minutes=-5)) == "PT0S"
