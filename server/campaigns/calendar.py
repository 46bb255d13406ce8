"""The fleet calendar: screens × days, what plays on each screen each (local) day, from the
engine's timelines over the published content; conflicts and days with nothing scheduled
marked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.campaigns.publications import load_published, rules_as_of, screens_facts
from server.errors import FieldError, ValidationFailed
from server.scheduling import Schedule, day_start, zone
from server.screens.models import Screen

MAX_DAYS: Final = 31


@dataclass(frozen=True)
class CalendarCell:
    day: date
    playlists: tuple[str, ...]  # what rules put on screen that day, in order of time
    default: bool  # the organisation's default playlist fills some of the day
    conflict: bool  # rules tied on layer, priority and target some time that day
    empty: bool  # no rule plays at all that day (the default playlist or the idle card)


@dataclass(frozen=True)
class CalendarRow:
    screen_id: int
    screen: str
    timezone: str
    cells: tuple[CalendarCell, ...]


def fleet_calendar(
    session: Session, org: Organisation, first: date, days: int, now: datetime
) -> list[CalendarRow]:
    """Each screen of `org`'s subtree over `days` local days from `first`."""
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(
            f"a calendar shows 1 to {MAX_DAYS} days", [FieldError("days", f"1 to {MAX_DAYS}")]
        )
    screens = list(
        session.scalars(
            select(Screen)
            .join(Screen.organisation)
            .where(Organisation.path.startswith(org.path))
            .order_by(Screen.name, Screen.id)
        )
    )
    if not screens:
        return []
    content = load_published(session, now)
    schedule = Schedule(rules_as_of(content.rules, now))
    names = {key: pl.name for key, pl in content.playlists.items()}
    dates = [first + timedelta(days=n) for n in range(days)]
    done: dict[object, tuple[CalendarCell, ...]] = {}
    rows = []
    for screen, facts in zip(screens, screens_facts(session, screens, content), strict=True):
        key = schedule.screen_key(facts)
        if key not in done:
            tz = zone(facts.timezone)
            cells = []
            for day in dates:
                start, end = day_start(day, tz), day_start(day + timedelta(days=1), tz)
                segments = schedule.timeline(facts, start, end)
                won = [s for s in segments if s.rule is not None and s.playlist]
                playing = tuple(dict.fromkeys(names.get(s.playlist or "", "?") for s in won))
                cells.append(
                    CalendarCell(
                        day=day,
                        playlists=playing,
                        default=any(s.rule is None and s.playlist for s in segments),
                        conflict=any(s.conflict for s in segments),
                        empty=not won,
                    )
                )
            done[key] = tuple(cells)
        rows.append(CalendarRow(screen.id, screen.name, screen.timezone, done[key]))
    return rows
