"""Wall clock to UTC, with the engine's rules for daylight-saving gaps and folds.

A wall-clock *start* inside a spring-forward gap begins at the first valid instant after
the gap; a wall-clock *end* inside a gap ends there too. A wall-clock time that occurs
twice (fall-back fold) starts at its first occurrence (fold=0) and ends at its second
(fold=1), so a window in the repeated hour plays once, through the whole hour.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.scheduling.errors import InvalidSchedule

ONE_DAY = timedelta(days=1)
MIDNIGHT = time(0, 0)
# Far enough from datetime's own limits that day arithmetic and look-arounds never overflow.
MIN_YEAR = 1900
MAX_YEAR = 9000


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or InvalidSchedule."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        raise InvalidSchedule("timezone", f"unknown time zone {name!r}") from None


def check_zone(name: object) -> str | None:
    """Why `name` is not a usable zone name, or None when it is."""
    if not isinstance(name, str) or not name:
        return "must be an IANA time zone name"
    try:
        zone(name)
    except InvalidSchedule as exc:
        return exc.reason
    return None


def instant_problem(value: object) -> str | None:
    """Why `value` is not an instant the engine accepts, or None."""
    if not isinstance(value, datetime):
        return "must be a datetime"
    if value.tzinfo is None or value.utcoffset() is None:
        return "must be timezone-aware"
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return f"must lie between the years {MIN_YEAR} and {MAX_YEAR}"
    return None


def to_utc(value: datetime, field: str) -> datetime:
    """`value` as an aware UTC datetime; InvalidSchedule naming `field` when it is unusable."""
    problem = instant_problem(value)
    if problem is not None:
        raise InvalidSchedule(field, problem)
    # Always compare in UTC: Python compares two datetimes sharing one tzinfo by wall clock,
    # ignoring fold, which is wrong across a fall-back hour.
    return value.astimezone(UTC)


@lru_cache(maxsize=65536)
def wall_to_utc(day: date, wall: time, tz: ZoneInfo, end: bool) -> datetime:
    """The UTC instant at which `wall` on `day` starts (or, with `end`, ends) in `tz`."""
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    instant = naive.replace(tzinfo=tz, fold=1 if end else 0).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == naive:
        return instant
    return _after_gap(naive, tz)


def _after_gap(naive: datetime, tz: ZoneInfo) -> datetime:
    """The first instant after the daylight-saving gap that swallows the wall time `naive`."""
    # Read with each side's offset, the missing wall time brackets the transition.
    a = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    b = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    lo, hi = int(min(a, b).timestamp()), int(max(a, b).timestamp())
    before = _offset(lo, tz)
    # Smallest whole second in (lo, hi] with the new offset; tz transitions fall on seconds.
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(mid, tz) == before:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def _offset(seconds: int, tz: ZoneInfo) -> timedelta | None:
    return datetime.fromtimestamp(seconds, UTC).astimezone(tz).utcoffset()


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight of `day` in `tz` as a UTC instant (first instant of the day)."""
    return wall_to_utc(day, MIDNIGHT, tz, False)


def day_containing(instant: datetime, tz: ZoneInfo) -> date:
    """The local date whose [day_start, next day_start) holds `instant` (UTC)."""
    day = instant.astimezone(tz).date()
    # Local dates can run backwards across a fold at midnight; the day starts cannot.
    while day_start(day + ONE_DAY, tz) <= instant:
        day += ONE_DAY
    while day_start(day, tz) > instant:
        day -= ONE_DAY
    return day


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The wall-clock date in `tz` at `instant`."""
    return instant.astimezone(tz).date()
