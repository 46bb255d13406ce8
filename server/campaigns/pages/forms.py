"""The campaign editor's forms read into the values the campaign and playlist services take.

A value the form cannot even parse (a date that is no date, a window that is no time) is
refused here with the field and the reason, the way the API's schemas refuse it; everything
else is the services' to check, so a page cannot allow what the API or a file refuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from werkzeug.datastructures import MultiDict

from server.campaigns.models import ScheduleEntry
from server.campaigns.services import day
from server.db import MAX_ID
from server.errors import FieldError, ValidationFailed
from server.playlists.models import FITS, TRANSITIONS, PlaylistItem
from server.playlists.services import MAX_ITEMS, ItemSpec

NAME_MAX: Final = 300
ZONE_MAX: Final = 64
PRIORITY_LIMIT: Final = 1_000_000
MAX_WINDOWS: Final = 24
CLOCK: Final = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
WINDOW: Final = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–~]\s*(\d{1,2}:\d{2})\s*$")
TARGET_KINDS: Final = ("campaign", "everyone", "chosen")
DAYS: Final = tuple("0123456")  # 0 is Monday


def refuse(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {reason}", [FieldError(field, reason)])


def _text(form: Mapping[str, str], name: str, limit: int, *, required: bool = True) -> str:
    value = form.get(name, "").strip()
    if required and not value:
        raise refuse(name, "required")
    if len(value) > limit:
        raise refuse(name, f"at most {limit} characters")
    return value


def _date(form: Mapping[str, str], name: str, *, required: bool = True) -> date | None:
    raw = form.get(name, "").strip()
    if not raw:
        if required:
            raise refuse(name, "required")
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise refuse(name, "a date, YYYY-MM-DD") from None


def header_values(form: Mapping[str, str]) -> dict[str, Any]:
    """Name, dates and time zone of a campaign, as `update_campaign` takes them."""
    return {
        "name": _text(form, "name", NAME_MAX),
        "start_date": _date(form, "start_date"),
        "end_date": _date(form, "end_date"),
        "timezone": _text(form, "timezone", ZONE_MAX),
    }


# --- playlist items --------------------------------------------------------------------


@dataclass
class Row:
    """One item row of the playlist form."""

    asset_id: int
    duration_s: str
    fit: str = "contain"
    transition: str = "cut"

    @classmethod
    def of(cls, item: PlaylistItem) -> Row:
        return cls(item.asset_id, seconds(item.duration_ms), item.fit, item.transition)


def seconds(duration_ms: int) -> str:
    """Milliseconds as the seconds the form shows: "10", "1.5"."""
    text = f"{Decimal(duration_ms) / 1000:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _id(raw: str, field: str) -> int:
    raw = raw.strip()
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise refuse(field, "not a known id")
    return int(raw)


def _ms(raw: str, field: str) -> int:
    try:
        value = Decimal(raw.strip().replace(",", "."))
    except InvalidOperation:
        raise refuse(field, "a number of seconds, such as 10 or 1.5") from None
    if not value.is_finite() or value <= 0 or value > 86_400:
        raise refuse(field, "a number of seconds between 1 and 86400")
    return int(value * 1000)


def rows_of(form: MultiDict[str, str]) -> list[Row]:
    """The rows as posted, in the posted order (the order is the play order)."""
    ids = form.getlist("asset_id")
    durations = form.getlist("duration_s")
    fits = form.getlist("fit")
    transitions = form.getlist("transition")
    if len(ids) > MAX_ITEMS or not len(ids) == len(durations) == len(fits) == len(transitions):
        raise refuse("items", "every item needs its asset, duration, fit and transition")
    return [
        Row(_id(i, f"items[{n}].asset_id"), d.strip()[:20], f, t)
        for n, (i, d, f, t) in enumerate(zip(ids, durations, fits, transitions, strict=True))
    ]


def apply_op(rows: list[Row], form: MultiDict[str, str]) -> list[Row]:
    """The rows after the button pressed: move one up or down, remove one, or add one."""
    op = form.get("op", "save")
    verb, _, where = op.partition(":")
    if verb == "add":
        asset = _id(form.get("add_asset_id", ""), "add_asset_id")
        _ms(form.get("add_duration_s", ""), "add_duration_s")
        return [*rows, Row(asset, form.get("add_duration_s", "").strip()[:20])]
    if verb in ("up", "down", "remove"):
        if not where.isdigit() or int(where) >= len(rows):
            raise refuse("op", "no such item")
        i = int(where)
        out = list(rows)
        if verb == "remove":
            del out[i]
        else:
            j = i - 1 if verb == "up" else i + 1
            if 0 <= j < len(out):
                out[i], out[j] = out[j], out[i]
        return out
    if verb != "save":
        raise refuse("op", "unknown action")
    return rows


def item_specs(rows: list[Row]) -> list[ItemSpec]:
    """What `replace_items` takes; a duration the form cannot read is refused here."""
    specs = []
    for n, row in enumerate(rows):
        if row.fit not in FITS:
            raise refuse(f"items[{n}].fit", "one of: " + ", ".join(FITS))
        if row.transition not in TRANSITIONS:
            raise refuse(f"items[{n}].transition", "one of: " + ", ".join(TRANSITIONS))
        specs.append(
            ItemSpec(
                row.asset_id, _ms(row.duration_s, f"items[{n}].duration_s"), row.fit, row.transition
            )
        )
    return specs


# --- schedule entries ------------------------------------------------------------------


def _windows(raw: str) -> list[list[str]]:
    windows = []
    for part in [p for p in re.split(r"[,，;\n]", raw) if p.strip()]:
        found = WINDOW.match(part)
        start, end = (found.group(1).zfill(5), found.group(2).zfill(5)) if found else ("", "")
        if not (CLOCK.match(start) and CLOCK.match(end)):
            raise refuse("windows", f"{part.strip()[:40]!r} is not HH:MM-HH:MM")
        windows.append([start, end])
    if len(windows) > MAX_WINDOWS:
        raise refuse("windows", f"at most {MAX_WINDOWS} windows")
    return windows


def _ints(form: MultiDict[str, str], name: str) -> list[int]:
    return sorted({_id(v, name) for v in form.getlist(name) if v.strip()})


def _targets(form: MultiDict[str, str]) -> dict[str, Any]:
    kind = form.get("target_kind", "campaign")
    if kind not in TARGET_KINDS:
        raise refuse("targets", "unknown kind of target")
    if kind == "campaign":
        return {}
    if kind == "everyone":
        return {"everyone": True}
    tags = sorted({t for t in re.split(r"[,，\s]+", form.get("tags", "")) if t})
    if any(len(t) > 64 for t in tags) or len(tags) > 50:
        raise refuse("targets.tags", "at most 50 tags of 64 characters")
    chosen = {
        "organisations": _ints(form, "organisations"),
        "groups": _ints(form, "groups"),
        "screens": _ints(form, "screens"),
        "tags": tags,
    }
    if not any(chosen.values()):
        raise refuse("targets", "choose screens, groups, tags or organisations")
    return chosen


def _priority(raw: str) -> int:
    raw = raw.strip() or "0"
    try:
        value = int(raw)
    except ValueError:
        raise refuse("priority", "a whole number") from None
    if abs(value) > PRIORITY_LIMIT:
        raise refuse("priority", f"between -{PRIORITY_LIMIT} and {PRIORITY_LIMIT}")
    return value


def entry_values(form: MultiDict[str, str]) -> dict[str, Any]:
    """A schedule entry as `add_entry` and `update_entry` take it (its span stays as it is)."""
    layer = form.get("layer", "normal")
    if layer not in ("normal", "takeover"):
        raise refuse("layer", "normal or takeover")
    days = sorted({int(d) for d in form.getlist("weekdays") if d in DAYS})
    return {
        "playlist_id": _id(form.get("playlist_id", ""), "playlist_id"),
        "first_date": _date(form, "first_date", required=False),
        "last_date": _date(form, "last_date", required=False),
        "weekdays": days if days and len(days) < 7 else None,
        "windows": _windows(form.get("windows", "")),
        "screen_local": form.get("time") == "screen-local",
        "priority": _priority(form.get("priority", "")),
        "layer": layer,
        "targets": _targets(form),
    }


def entry_form(entry: ScheduleEntry | None) -> dict[str, Any]:
    """An entry as the form shows it (None: a new entry's defaults)."""
    if entry is None:
        return {"playlist_id": 0, "first_date": "", "last_date": "", "weekdays": [],
                "windows": "", "time": "campaign", "priority": 0, "layer": "normal",
                "target_kind": "campaign", "organisations": [], "groups": [], "screens": [],
                "tags": ""}  # fmt: skip
    t = entry.targets or {}
    kind = "campaign" if not t else ("everyone" if t.get("everyone") else "chosen")
    return {
        "playlist_id": entry.playlist_id,
        "first_date": day(entry.first_date) or "",
        "last_date": day(entry.last_date) or "",
        "weekdays": entry.weekdays or [],
        "windows": ", ".join(f"{s}-{e}" for s, e in entry.windows),
        "time": "screen-local" if entry.screen_local else "campaign",
        "priority": entry.priority,
        "layer": entry.layer,
        "target_kind": kind,
        "organisations": t.get("organisations", []),
        "groups": t.get("groups", []),
        "screens": t.get("screens", []),
        "tags": ", ".join(t.get("tags", [])),
    }


def posted_entry_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """What was typed, to show again beside a refusal."""

    def ids(name: str) -> list[int]:
        return [int(v) for v in form.getlist(name) if v.isdigit() and int(v) <= MAX_ID]

    return {
        "playlist_id": int(p)
        if (p := form.get("playlist_id", "")).isdigit() and int(p) <= MAX_ID
        else 0,
        "first_date": form.get("first_date", "")[:10],
        "last_date": form.get("last_date", "")[:10],
        "weekdays": [int(d) for d in form.getlist("weekdays") if d in DAYS],
        "windows": form.get("windows", "")[:400],
        "time": form.get("time", "campaign"),
        "priority": form.get("priority", "0")[:12],
        "layer": form.get("layer", "normal"),
        "target_kind": form.get("target_kind", "campaign"),
        "organisations": ids("organisations"),
        "groups": ids("groups"),
        "screens": ids("screens"),
        "tags": form.get("tags", "")[:400],
    }
