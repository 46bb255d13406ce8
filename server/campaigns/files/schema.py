"""A campaign file, parsed: plain values with the line each came from.

The parsing rules for each kind of value (durations, date ranges, daily windows, instants,
weekdays) live here too, next to their inverse used by export, so that a value written by
export reads back as itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
LAYERS = ("normal", "takeover")
TIME_MODES = ("campaign", "screen-local")
MAX_DURATION_MS = 24 * 3600 * 1000
MAX_PRIORITY = 1_000_000
EARLIEST = date(1900, 1, 1)  # the engine's range: stands in for a missing date
LATEST = date(9000, 12, 31)
SHA_REF = re.compile(r"^sha256:([0-9a-f]{64})$")
TAG = re.compile(r"^[\w][\w.:/-]{0,63}$")

_DURATION = re.compile(
    r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m(?!s))?(?:(?P<s>\d+(?:\.\d{1,3})?)s)?(?:(?P<ms>\d+)ms)?$"
)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_INSTANT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$")


class Bad(ValueError):
    """A value that does not parse; the message is the reason shown to the operator."""


@dataclass(frozen=True)
class ItemSpec:
    kind: str  # "poster" or "slogan"
    source: str  # poster: a path relative to the file, or "sha256:<hex>"; slogan: its text
    duration_ms: int
    fit: str = "contain"
    transition: str = "cut"
    style: dict[str, Any] = field(default_factory=dict)
    line: int = 0
    where: str = field(default="", compare=False)  # "playlists.week[1]", for problems


@dataclass(frozen=True)
class TargetSpec:
    everyone: bool = False
    orgs: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    screens: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class EntrySpec:
    playlist: str
    first_date: date | None = None
    last_date: date | None = None
    weekdays: tuple[int, ...] | None = None
    windows: tuple[tuple[time, time], ...] = ()
    interval: tuple[datetime, datetime] | None = None
    targets: TargetSpec | None = None
    screen_local: bool = False
    priority: int = 0
    layer: str = "normal"
    line: int = 0
    where: str = field(default="", compare=False)  # "schedule[2]", for problems
    # field name -> line, for problems found after parsing (unknown group, bad window...)
    lines: dict[str, int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    timezone: str
    start: date
    end: date
    targets: TargetSpec
    playlists: dict[str, tuple[ItemSpec, ...]]
    entries: tuple[EntrySpec, ...]
    description: str = ""
    organisation: str | None = None
    base_dir: str = "."
    lines: dict[str, int] = field(default_factory=dict, compare=False)


# --- durations -------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """Milliseconds in "10s", "1.5s", "500ms", "1m30s", "2h"; a unit is required."""
    m = _DURATION.match(text.strip())
    if not text.strip() or m is None or not any(m.groupdict().values()):
        raise Bad(f"{text!r} is not a duration (write e.g. 10s, 1.5s, 500ms, 1m30s)")
    parts = m.groupdict()
    ms = int(parts["h"] or 0) * 3_600_000 + int(parts["m"] or 0) * 60_000
    if parts["s"]:
        whole, _, frac = parts["s"].partition(".")
        ms += int(whole) * 1000 + int((frac + "000")[:3])
    ms += int(parts["ms"] or 0)
    if ms <= 0:
        raise Bad("must be longer than zero")
    if ms > MAX_DURATION_MS:
        raise Bad("must be at most 24h")
    return ms


def format_duration(ms: int) -> str:
    if ms % 1000:
        if ms < 1000:
            return f"{ms}ms"
        return f"{ms / 1000:.3f}".rstrip("0") + "s"
    seconds = ms // 1000
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    return out or "0s"


# --- dates -----------------------------------------------------------------------------


def parse_date(text: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            raise ValueError
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Bad(f"{text!r} is not a date (YYYY-MM-DD)") from None


def parse_date_range(text: str) -> tuple[date, date]:
    """ "2022-09-05 .. 2022-09-11" (inclusive), or a single date."""
    first, sep, last = text.partition("..")
    start = parse_date(first)
    end = parse_date(last) if sep else start
    if end < start:
        raise Bad(f"ends ({end}) before it starts ({start})")
    return start, end


def format_date_range(start: date, end: date) -> str:
    return start.isoformat() if start == end else f"{start.isoformat()} .. {end.isoformat()}"


# --- weekdays and daily windows --------------------------------------------------------


def parse_weekday(text: str) -> int:
    name = text.strip().lower()
    if name in DAY_NAMES:
        return DAY_NAMES.index(name)
    if name in _FULL_DAY_NAMES:
        return _FULL_DAY_NAMES.index(name)
    raise Bad(f"{text!r} is not a weekday (mon, tue, wed, thu, fri, sat, sun)")


def parse_clock(text: str, *, end: bool) -> time:
    m = _CLOCK.match(text.strip())
    if m is None:
        raise Bad(f"{text!r} is not a time of day (HH:MM)")
    hour, minute = int(m.group(1)), int(m.group(2))
    if end and hour == 24 and minute == 0:
        return time(0, 0)  # the end of the day, i.e. the next midnight
    if hour > 23 or minute > 59:
        raise Bad(f"{text!r} is not a time of day (00:00 to 23:59)")
    return time(hour, minute)


def parse_window(text: str) -> tuple[time, time]:
    """ "07:30-09:00"; an end at or before the start crosses midnight ("22:00-06:00")."""
    first, sep, last = text.partition("-")
    if not sep:
        raise Bad(f"{text!r} is not a window (write HH:MM-HH:MM)")
    start, end = parse_clock(first, end=False), parse_clock(last, end=True)
    if start == end:
        raise Bad(f"{text!r} starts and ends at the same time (leave out `between` for all day)")
    return start, end


def format_window(start: time, end: time) -> str:
    end_text = "24:00" if end == time(0, 0) else end.strftime("%H:%M")
    return f"{start.strftime('%H:%M')}-{end_text}"


def window_strings(window: tuple[time, time]) -> tuple[str, str]:
    """A window as a schedule entry stores it: ("07:30", "09:00")."""
    return window[0].strftime("%H:%M"), window[1].strftime("%H:%M")


# --- instants --------------------------------------------------------------------------


def parse_instant(text: str, tz: ZoneInfo | None) -> datetime:
    """ "2022-09-08T14:00" (wall clock in the campaign's zone) or with an offset / Z."""
    m = _INSTANT.match(text.strip())
    if m is None:
        raise Bad(f"{text!r} is not a date and time (YYYY-MM-DDTHH:MM, optionally +08:00)")
    day = parse_date(m.group(1))
    hour, minute, second = int(m.group(2)), int(m.group(3)), int(m.group(4) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise Bad(f"{text!r} is not a valid time of day")
    naive = datetime.combine(day, time(hour, minute, second))
    offset = m.group(5)
    if offset:
        return datetime.fromisoformat(naive.isoformat() + ("+00:00" if offset == "Z" else offset))
    if tz is None:
        raise Bad("needs the campaign's timezone (or an explicit offset)")
    local = naive.replace(tzinfo=tz)
    if local.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != naive:
        raise Bad(f"{text!r} does not exist in {tz.key} (a daylight-saving gap)")
    return local


def format_instant(value: datetime, tz: ZoneInfo) -> str:
    """Wall clock in `tz` when that names `value` unambiguously, else with its offset."""
    local = value.astimezone(tz)
    naive = local.replace(tzinfo=None)
    fmt = "%Y-%m-%dT%H:%M:%S" if naive.second else "%Y-%m-%dT%H:%M"
    try:
        back = parse_instant(naive.strftime(fmt), tz)
    except Bad:
        back = None
    if back is not None and back == value:
        return naive.strftime(fmt)
    offset = local.strftime("%z")
    return naive.strftime(fmt) + offset[:3] + ":" + offset[3:]


def check_tag(text: str) -> str:
    if not TAG.match(text):
        raise Bad(f"{text!r} is not a tag (letters, digits and _ . : / -, at most 64)")
    return text
