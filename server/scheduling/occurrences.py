"""A rule's recurrence, expanded into concrete UTC occurrences over an interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from server.scheduling.errors import InvalidSchedule
from server.scheduling.localtime import ONE_DAY, day_start, local_date, to_utc, wall_to_utc, zone
from server.scheduling.rules import DailyWindow, Rule
from server.scheduling.validate import check_rule, in_utc

Span = tuple[datetime, datetime]
# Local dates lie within a day of UTC dates; an occurrence lasts at most a day more.
_SLACK = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One stretch during which a rule is in force: [start, end) in UTC.

    `start`/`end` are already clipped to the rule's `live_from`/`live_until`; `anchor` is
    where the occurrence begins by its recurrence alone, before that clipping.
    """

    start: datetime
    end: datetime
    anchor: datetime


def occurrences(
    rule: Rule, screen_timezone: str, start: datetime, end: datetime
) -> list[Occurrence]:
    """The occurrences of `rule` that overlap [start, end) on a screen in `screen_timezone`."""
    problems = check_rule(rule)
    if problems:
        raise InvalidSchedule(f"rule.{problems[0].field}", problems[0].reason)
    lo, hi = to_utc(start, "start"), to_utc(end, "end")
    if hi < lo:
        raise InvalidSchedule("end", "is before start")
    return expand(in_utc(rule), zone(rule.timezone or screen_timezone), lo, hi)


def expand(rule: Rule, tz: ZoneInfo, start: datetime, end: datetime) -> list[Occurrence]:
    """Occurrences of a checked, `in_utc` rule overlapping UTC [start, end), by start.

    `tz` is the zone the rule's wall-clock fields are read in.
    """
    live_from = rule.live_from
    live_until = rule.live_until
    lo = start if live_from is None else max(start, live_from)
    hi = end if live_until is None else min(end, live_until)
    if lo >= hi:
        return []
    if rule.interval is not None:
        spans: list[Span] = [rule.interval]
    elif rule.last_date < lo.date() - _SLACK or rule.first_date > hi.date() + _SLACK:
        return []  # cheap UTC-date test first: most rules of a long schedule miss the interval
    else:
        # An occurrence that overlaps [lo, hi) starts at most a day before lo's local date
        # (windows last at most a day) and at most a day after hi's (a fold at midnight can
        # move the wall-clock date back).
        first = max(rule.first_date, local_date(lo, tz) - ONE_DAY)
        last = min(rule.last_date, local_date(hi, tz) + ONE_DAY)
        spans = []
        weekdays = rule.weekdays
        day = first
        while day <= last:
            if weekdays is None or day.weekday() in weekdays:
                spans.extend(day_spans(day, rule.windows, tz))
            day += ONE_DAY
    out: list[Occurrence] = []
    for anchor, span_end in spans:
        s = anchor if live_from is None or anchor >= live_from else live_from
        e = span_end if live_until is None or span_end <= live_until else live_until
        if s < e and e > start and s < end:
            out.append(Occurrence(s, e, anchor))
    out.sort(key=lambda o: (o.start, o.end))
    return out


@lru_cache(maxsize=65536)
def day_spans(day: date, windows: tuple[DailyWindow, ...], tz: ZoneInfo) -> tuple[Span, ...]:
    """The UTC spans that `windows` cover when they start on `day`; overlaps merged.

    Spans of one day that overlap are one occurrence (anchored at the earliest start);
    spans that merely touch stay apart. No windows means the whole day, from local
    midnight to the next local midnight.
    """
    if not windows:
        s, e = day_start(day, tz), day_start(day + ONE_DAY, tz)
        return ((s, e),) if s < e else ()
    raw: list[Span] = []
    for window in windows:
        s = wall_to_utc(day, window.start, tz, False)
        end_day = day + ONE_DAY if window.end <= window.start else day
        e = wall_to_utc(end_day, window.end, tz, True)
        if s < e:  # a window wholly inside a spring-forward gap does not happen that day
            raw.append((s, e))
    raw.sort()
    merged: list[Span] = []
    for s, e in raw:
        if merged and s < merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return tuple(merged)
