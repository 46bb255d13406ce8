"""Campaign content in words, for plan output, previews and audit summaries."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.campaigns.files.schema import (
    DAY_NAMES,
    format_date_range,
    format_duration,
    format_instant,
    format_window,
)
from server.campaigns.files.state import EntryState, ItemState
from server.screens.models import Group, Screen


class Names:
    """Ids to names for targets, looked up once each."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[tuple[str, int], str] = {}

    def _name(self, kind: str, model: Any, ident: int) -> str:
        key = (kind, ident)
        if key not in self._cache:
            name = self.session.scalar(select(model.name).where(model.id == ident))
            self._cache[key] = name if name is not None else f"#{ident}"
        return self._cache[key]

    def org(self, ident: int) -> str:
        return self._name("org", Organisation, ident)

    def group(self, ident: int) -> str:
        return self._name("group", Group, ident)

    def screen(self, ident: int) -> str:
        return self._name("screen", Screen, ident)


def describe_targets(targets: dict[str, Any], names: Names) -> str:
    if not targets:
        return "the campaign's targets"
    if targets.get("everyone"):
        return "all screens"
    parts = []
    if targets.get("organisations"):
        parts.append("orgs " + ", ".join(sorted(names.org(i) for i in targets["organisations"])))
    if targets.get("groups"):
        parts.append("groups " + ", ".join(sorted({names.group(i) for i in targets["groups"]})))
    if targets.get("tags"):
        parts.append("tags " + ", ".join(targets["tags"]))
    if targets.get("screens"):
        parts.append("screens " + ", ".join(sorted(names.screen(i) for i in targets["screens"])))
    return "; ".join(parts) or "no screens"


def describe_item(item: ItemState) -> str:
    what = f"slogan {item.label!r}" if item.kind == "slogan" else f"{item.kind} {item.label}"
    extras = [format_duration(item.duration_ms)]
    if item.fit != "contain":
        extras.append(item.fit)
    if item.transition != "cut":
        extras.append(item.transition)
    return f"{what} ({', '.join(extras)})"


def describe_entry(entry: EntryState, timezone: str, names: Names | None) -> str:
    words = [f"play {entry.playlist}"]
    if entry.interval_start and entry.interval_end:
        tz = ZoneInfo(timezone)
        words.append(
            f"from {format_instant(entry.interval_start, tz)}"
            f" until {format_instant(entry.interval_end, tz)}"
        )
    elif entry.first_date is not None and entry.last_date is not None:
        span = format_date_range(entry.first_date, entry.last_date)
        words.append(("on " if entry.first_date == entry.last_date else "") + span)
    elif entry.weekdays is None:
        words.append("every day of the campaign")
    if entry.weekdays is not None:
        words.append("every " + ", ".join(DAY_NAMES[d] for d in entry.weekdays))
    if entry.windows:
        windows = (
            format_window(time.fromisoformat(s), time.fromisoformat(e)) for s, e in entry.windows
        )
        words.append("between " + ", ".join(windows))
    if entry.screen_local:
        words.append("(screen-local time)")
    if entry.targets and names is not None:
        words.append("for " + describe_targets(entry.targets, names))
    if entry.priority:
        words.append(f"priority {entry.priority}")
    if entry.layer != "normal":
        words.append(f"layer {entry.layer}")
    return " ".join(words)


def entry_from_snapshot(entry: dict[str, Any], playlists: dict[str, Any]) -> EntryState:
    """A snapshot entry as an EntryState (its playlist named), to describe it."""
    pl = playlists.get(str(entry["playlist_id"]), {})

    def day(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    def instant(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return EntryState(
        playlist=pl.get("name", f"#{entry['playlist_id']}"),
        targets=entry.get("targets") or {},
        first_date=day(entry.get("first_date")),
        last_date=day(entry.get("last_date")),
        weekdays=tuple(entry["weekdays"]) if entry.get("weekdays") is not None else None,
        windows=tuple((w[0], w[1]) for w in entry.get("windows") or ()),
        interval_start=instant(entry.get("interval_start")),
        interval_end=instant(entry.get("interval_end")),
        screen_local=bool(entry.get("screen_local")),
        priority=int(entry.get("priority", 0)),
        layer=str(entry.get("layer", "normal")),
    )
