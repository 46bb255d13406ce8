"""Move a campaign in time: every date, theme day and explicit instant by the same days."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.campaigns.files.schema import CampaignSpec, EntrySpec


def shift_instant(value: datetime, days: timedelta, tz: ZoneInfo) -> datetime:
    """The same wall-clock time in `tz`, `days` later (so 14:00 stays 14:00 across DST)."""
    local = value.astimezone(tz).replace(tzinfo=None) + days
    return local.replace(tzinfo=tz)


def start_on(spec: CampaignSpec, first_day: date) -> CampaignSpec:
    """`spec` moved so that it starts on `first_day`."""
    days = timedelta(days=(first_day - spec.start).days)
    if not days:
        return spec
    tz = ZoneInfo(spec.timezone)

    def entry(e: EntrySpec) -> EntrySpec:
        return replace(
            e,
            first_date=e.first_date + days if e.first_date else None,
            last_date=e.last_date + days if e.last_date else None,
            interval=(
                (shift_instant(e.interval[0], days, tz), shift_instant(e.interval[1], days, tz))
                if e.interval
                else None
            ),
        )

    return replace(
        spec,
        start=spec.start + days,
        end=spec.end + days,
        entries=tuple(entry(e) for e in spec.entries),
    )
