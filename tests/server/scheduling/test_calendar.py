"""Worked examples of the calendar: DST changes, windows across midnight, leap days, zones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from server.scheduling import DailyWindow, Rule, ScreenFacts, Targets, occurrences, timeline


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def rule(first: date, last: date | None = None, **fields: object) -> Rule:
    base = Rule(
        id="r",
        playlist="p",
        owner_org=1,
        targets=Targets(everyone=True),
        first_date=first,
        last_date=last or first,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def window(start: str, end: str) -> DailyWindow:
    return DailyWindow(time.fromisoformat(start), time.fromisoformat(end))


def spans(r: Rule, zone: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    return [(o.start, o.end) for o in occurrences(r, zone, start, end)]


WIDE = (utc(2024, 1, 1), utc(2025, 1, 1))


# --- spring forward ------------------------------------------------------------------------


def test_berlin_spring_forward_day_lasts_23_hours() -> None:
    # 2024-03-31: at 02:00 CET the clocks jump to 03:00 CEST.
    day = rule(date(2024, 3, 31), timezone="Europe/Berlin")
    assert spans(day, "UTC", *WIDE) == [(utc(2024, 3, 30, 23), utc(2024, 3, 31, 22))]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # starts in the gap: plays from the first instant after it, 03:00 CEST
        ("02:30", "04:00", [(utc(2024, 3, 31, 1), utc(2024, 3, 31, 2))]),
        # ends in the gap: stops when the gap ends, which is the same instant
        ("01:00", "02:30", [(utc(2024, 3, 31, 0), utc(2024, 3, 31, 1))]),
        # wholly inside the gap: does not happen that day
        ("02:00", "02:45", []),
    ],
)
def test_berlin_windows_touching_the_gap(
    start: str, end: str, expected: list[tuple[datetime, datetime]]
) -> None:
    r = rule(date(2024, 3, 31), timezone="Europe/Berlin", windows=(window(start, end),))
    assert spans(r, "UTC", *WIDE) == expected


def test_new_york_spring_forward_window_starting_in_the_gap() -> None:
    # 2024-03-10: at 02:00 EST the clocks jump to 03:00 EDT (07:00 UTC).
    r = rule(date(2024, 3, 10), timezone="America/New_York", windows=(window("02:30", "04:00"),))
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 3, 10, 7), utc(2024, 3, 10, 8))]


def test_lord_howe_half_hour_gap() -> None:
    # 2024-10-06: at 02:00 (+10:30) Lord Howe jumps to 02:30 (+11:00).
    r = rule(date(2024, 10, 6), timezone="Australia/Lord_Howe", windows=(window("02:15", "03:00"),))
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 10, 5, 15, 30), utc(2024, 10, 5, 16))]


# --- fall back -----------------------------------------------------------------------------


def test_berlin_fall_back_day_lasts_25_hours() -> None:
    day = rule(date(2024, 10, 27), timezone="Europe/Berlin")
    assert spans(day, "UTC", *WIDE) == [(utc(2024, 10, 26, 22), utc(2024, 10, 27, 23))]


def test_berlin_window_in_the_repeated_hour_plays_once_through_it() -> None:
    # 02:00-03:00 happens twice on 2024-10-27: 00:00-01:00 UTC (CEST), 01:00-02:00 UTC (CET).
    r = rule(date(2024, 10, 27), timezone="Europe/Berlin", windows=(window("02:15", "02:45"),))
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 10, 27, 0, 15), utc(2024, 10, 27, 1, 45))]


def test_new_york_fall_back_window() -> None:
    # 2024-11-03: 01:00-02:00 happens twice, first in EDT (05:00 UTC) then in EST (06:00 UTC).
    r = rule(date(2024, 11, 3), timezone="America/New_York", windows=(window("01:30", "01:45"),))
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 11, 3, 5, 30), utc(2024, 11, 3, 6, 45))]


def test_lord_howe_half_hour_fold_is_played_once() -> None:
    # 2024-04-07: at 02:00 (+11:00) Lord Howe goes back to 01:30 (+10:30).
    r = rule(date(2024, 4, 7), timezone="Australia/Lord_Howe", windows=(window("01:30", "01:45"),))
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 4, 6, 14, 30), utc(2024, 4, 6, 15, 15))]


def test_default_playlist_days_follow_local_midnight_across_fall_back() -> None:
    screen = ScreenFacts(id=1, org_path=(1,), timezone="Europe/Berlin", default_playlist="d")
    segments = timeline([], screen, utc(2024, 10, 26, 22), utc(2024, 10, 28, 23))
    assert [(s.start, s.end, s.anchor) for s in segments] == [
        (utc(2024, 10, 26, 22), utc(2024, 10, 27, 23), utc(2024, 10, 26, 22)),
        (utc(2024, 10, 27, 23), utc(2024, 10, 28, 23), utc(2024, 10, 27, 23)),
    ]
    assert {s.playlist for s in segments} == {"d"}


# --- windows across midnight -------------------------------------------------------------------


def test_window_across_midnight_into_spring_forward() -> None:
    # 22:00 CET Saturday to 02:00 Sunday, which does not exist: it ends at 03:00 CEST.
    r = rule(date(2024, 3, 30), timezone="Europe/Berlin", windows=(window("22:00", "02:00"),))
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 3, 30, 21), utc(2024, 3, 31, 1))]


def test_window_across_midnight_into_fall_back_lasts_five_hours() -> None:
    # 22:00 CEST Saturday to the second 02:00 Sunday (CET): 20:00 to 01:00 UTC.
    r = rule(date(2024, 10, 26), timezone="Europe/Berlin", windows=(window("22:00", "02:00"),))
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 10, 26, 20), utc(2024, 10, 27, 1))]


def test_new_york_night_window_across_fall_back_lasts_five_hours() -> None:
    r = rule(date(2024, 11, 2), timezone="America/New_York", windows=(window("22:00", "02:00"),))
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 11, 3, 2), utc(2024, 11, 3, 7))]


def test_night_window_overlapping_the_next_morning_keeps_its_anchor_until_it_ends() -> None:
    r = rule(
        date(2024, 6, 1),
        date(2024, 6, 2),
        timezone="UTC",
        windows=(window("06:00", "12:00"), window("20:00", "08:00")),
    )
    screen = ScreenFacts(id=1, org_path=(1,), timezone="UTC")
    segments = timeline([r], screen, utc(2024, 6, 2, 5), utc(2024, 6, 2, 13))
    assert [(s.start, s.end, s.anchor) for s in segments] == [
        (utc(2024, 6, 2, 5), utc(2024, 6, 2, 8), utc(2024, 6, 1, 20)),
        (utc(2024, 6, 2, 8), utc(2024, 6, 2, 12), utc(2024, 6, 2, 6)),
        (utc(2024, 6, 2, 12), utc(2024, 6, 2, 13), utc(2024, 6, 2)),  # default: midnight
    ]


def test_window_across_midnight_belongs_to_its_start_date() -> None:
    # Saturdays only (weekday 5): 2024-06-01 is a Saturday; the Sunday morning is included,
    # Friday night is not.
    r = rule(
        date(2024, 5, 31),
        date(2024, 6, 2),
        timezone="UTC",
        weekdays=frozenset({5}),
        windows=(window("22:00", "02:00"),),
    )
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 6, 1, 22), utc(2024, 6, 2, 2))]


def test_window_from_the_day_before_reaches_into_the_query() -> None:
    r = rule(date(2024, 6, 1), timezone="UTC", windows=(window("22:00", "02:00"),))
    screen = ScreenFacts(id=1, org_path=(1,), timezone="UTC")
    (first, *_) = timeline([r], screen, utc(2024, 6, 2, 1), utc(2024, 6, 2, 3))
    assert (first.rule, first.start, first.end) == ("r", utc(2024, 6, 2, 1), utc(2024, 6, 2, 2))
    assert first.anchor == utc(2024, 6, 1, 22)  # the occurrence began before the segment


def test_equal_start_and_end_is_a_full_day_from_that_time() -> None:
    r = rule(date(2024, 6, 1), timezone="UTC", windows=(window("12:00", "12:00"),))
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 6, 1, 12), utc(2024, 6, 2, 12))]


def test_overlapping_windows_of_one_day_are_one_occurrence() -> None:
    r = rule(
        date(2024, 6, 1),
        timezone="UTC",
        windows=(window("08:00", "12:00"), window("10:00", "14:00"), window("14:00", "15:00")),
    )
    assert spans(r, "UTC", *WIDE) == [
        (utc(2024, 6, 1, 8), utc(2024, 6, 1, 14)),
        (utc(2024, 6, 1, 14), utc(2024, 6, 1, 15)),  # touching stays apart: a new anchor
    ]


# --- leap days ---------------------------------------------------------------------------------


def test_leap_day_theme_day() -> None:
    theme = rule(date(2024, 2, 29), timezone="Asia/Shanghai", playlist="leap")
    assert spans(theme, "UTC", *WIDE) == [(utc(2024, 2, 28, 16), utc(2024, 2, 29, 16))]


def test_weekly_rule_over_february_of_a_leap_year() -> None:
    thursdays = rule(date(2024, 2, 1), date(2024, 2, 29), timezone="UTC", weekdays=frozenset({3}))
    starts = [s for s, _ in spans(thursdays, "UTC", *WIDE)]
    assert [s.day for s in starts] == [1, 8, 15, 22, 29]


def test_february_to_march_counts_the_leap_day() -> None:
    every_day = rule(date(2024, 2, 28), date(2024, 3, 1), timezone="UTC")
    assert len(spans(every_day, "UTC", *WIDE)) == 3
    not_leap = replace(every_day, first_date=date(2023, 2, 28), last_date=date(2023, 3, 1))
    assert len(spans(not_leap, "UTC", utc(2023, 1, 1), utc(2024, 1, 1))) == 2


# --- zones ---------------------------------------------------------------------------------------


def test_screen_local_rule_plays_at_each_screens_own_nine_oclock() -> None:
    morning = rule(date(2024, 6, 3), windows=(window("09:00", "10:00"),))  # timezone None
    shanghai = ScreenFacts(id=1, org_path=(1,), timezone="Asia/Shanghai")
    london = ScreenFacts(id=2, org_path=(1,), timezone="Europe/London")

    def playing(screen: ScreenFacts) -> list[tuple[datetime, datetime]]:
        segments = timeline([morning], screen, utc(2024, 6, 2), utc(2024, 6, 5))
        return [(s.start, s.end) for s in segments if s.rule == "r"]

    assert playing(shanghai) == [(utc(2024, 6, 3, 1), utc(2024, 6, 3, 2))]
    assert playing(london) == [(utc(2024, 6, 3, 8), utc(2024, 6, 3, 9))]  # BST, UTC+1


def test_rule_with_its_own_zone_is_one_instant_everywhere() -> None:
    morning = rule(date(2024, 6, 3), timezone="Asia/Shanghai", windows=(window("09:00", "10:00"),))
    for zone in ("Asia/Shanghai", "Europe/London", "America/New_York"):
        assert spans(morning, zone, *WIDE) == [(utc(2024, 6, 3, 1), utc(2024, 6, 3, 2))]


def test_explicit_interval_ignores_the_calendar() -> None:
    r = rule(
        date(2000, 1, 1),
        timezone="Asia/Shanghai",
        weekdays=frozenset({0}),
        interval=(utc(2024, 6, 5, 10), utc(2024, 6, 5, 11)),
    )
    assert spans(r, "UTC", *WIDE) == [(utc(2024, 6, 5, 10), utc(2024, 6, 5, 11))]


def test_live_from_clips_but_keeps_the_anchor() -> None:
    r = rule(date(2024, 6, 3), timezone="UTC", live_from=utc(2024, 6, 3, 14))
    (occ,) = occurrences(r, "UTC", *WIDE)
    assert (occ.start, occ.end, occ.anchor) == (
        utc(2024, 6, 3, 14),
        utc(2024, 6, 4),
        utc(2024, 6, 3),
    )
    assert occurrences(replace(r, live_until=utc(2024, 6, 3, 14, 0, 0, 1)), "UTC", *WIDE)
    assert not occurrences(replace(r, live_from=utc(2024, 6, 4)), "UTC", *WIDE)


def test_query_returns_only_overlapping_occurrences() -> None:
    r = rule(date(2024, 6, 1), date(2024, 6, 30), timezone="UTC")
    found = spans(r, "UTC", utc(2024, 6, 10, 12), utc(2024, 6, 11, 12))
    assert found == [
        (utc(2024, 6, 10), utc(2024, 6, 11)),
        (utc(2024, 6, 11), utc(2024, 6, 12)),
    ]
    assert spans(r, "UTC", utc(2024, 6, 10), utc(2024, 6, 10)) == []
    assert spans(r, "UTC", utc(2024, 7, 1), utc(2024, 7, 1) + timedelta(days=3)) == []
