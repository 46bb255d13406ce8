"""Checks of a parsed campaign that need no database: references, dates, windows, media files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from server.assets.ingest import canonical_slogan, require_slogan_glyphs
from server.campaigns.files.schema import (
    SHA_REF,
    CampaignSpec,
    EntrySpec,
    ItemSpec,
    format_date_range,
)
from server.errors import KnownError
from server.media.images import inspect_image

Found = tuple[int, str, str]  # line, field, reason


def check_spec(spec: CampaignSpec) -> list[Found]:
    """Everything wrong with `spec` that can be told without the database."""
    out: list[Found] = []
    for items in spec.playlists.values():
        for item in items:
            out.extend(_item_problems(spec, item, item.where))
    for entry in spec.entries:
        out.extend(_entry_problems(spec, entry, entry.where))
    return out


def poster_path(spec: CampaignSpec, item: ItemSpec) -> Path:
    return Path(spec.base_dir) / item.source


def _item_problems(spec: CampaignSpec, item: ItemSpec, field: str) -> Iterator[Found]:
    if item.kind == "slogan":
        try:
            slogan = canonical_slogan(item.source, item.style)
            require_slogan_glyphs(slogan["text"], slogan["style"])
        except KnownError as exc:
            for err in exc.errors or []:
                sub = "slogan" if err.field == "text" else f"style.{err.field}"
                sub = err.field if err.field.startswith("style.") else sub
                yield item.line, f"{field}.{sub}", err.reason
            if not exc.errors:
                yield item.line, f"{field}.slogan", exc.detail
        return
    if SHA_REF.match(item.source):
        return  # checked against the organisation's assets when bound
    if item.source.startswith("sha256:"):
        yield item.line, f"{field}.poster", "sha256: must be followed by 64 lowercase hex digits"
        return
    if Path(item.source).is_absolute():
        yield item.line, f"{field}.poster", "must be a path relative to the campaign file"
        return
    path = poster_path(spec, item)
    if not path.is_file():
        # The path as the file gives it: a server checking an uploaded file must not show
        # where it unpacked it.
        yield item.line, f"{field}.poster", f"no such file: {item.source}"
        return
    try:
        inspect_image(path)
    except KnownError as exc:
        yield item.line, f"{field}.poster", exc.detail


def _entry_problems(spec: CampaignSpec, entry: EntrySpec, field: str) -> Iterator[Found]:
    lines = entry.lines
    if entry.playlist not in spec.playlists:
        known = ", ".join(sorted(spec.playlists)) or "none"
        yield (
            lines.get("play", entry.line),
            f"{field}.play",
            (f"unknown playlist {entry.playlist!r} (playlists: {known})"),
        )
    campaign_dates = format_date_range(spec.start, spec.end)
    first = entry.first_date or spec.start
    last = entry.last_date or spec.end
    if entry.first_date is not None and (first < spec.start or last > spec.end):
        key = "on" if "on" in lines else "dates"
        yield (
            lines.get(key, entry.line),
            f"{field}.{key}",
            (f"lies outside the campaign's dates ({campaign_dates})"),
        )
    elif (
        entry.weekdays is not None
        and entry.interval is None
        and not _any_weekday(first, last, entry.weekdays)
    ):
        yield (
            lines.get("days", entry.line),
            f"{field}.days",
            (f"no date in {format_date_range(first, last)} falls on these days: it never plays"),
        )
    if entry.interval is not None:
        tz = ZoneInfo(spec.timezone)
        start, end = entry.interval
        if start.astimezone(tz).date() < spec.start:
            yield (
                lines.get("from", entry.line),
                f"{field}.from",
                (f"lies before the campaign's dates ({campaign_dates})"),
            )
        # `until` may be the midnight that ends the last day.
        if (
            end.astimezone(tz) > _midnight_after(spec.end, tz)
            or end.astimezone(tz).date() < spec.start
        ):
            yield (
                lines.get("until", entry.line),
                f"{field}.until",
                (f"lies after the campaign's dates ({campaign_dates})"),
            )


def _midnight_after(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)


def _any_weekday(first: date, last: date, weekdays: tuple[int, ...]) -> bool:
    if (last - first).days >= 6:
        return True
    day = first
    while day <= last:
        if day.weekday() in weekdays:
            return True
        day += timedelta(days=1)
    return False
