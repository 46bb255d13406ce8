"""The fleet calendar: screens × days, what plays on each screen each (local) day, from the
engine's timelines over the published content; conflicts and days with nothing scheduled
marked. And a campaign's week: days × hours of what its own entries play."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.auth.actors import Actor
from server.auth.scope import in_scope, reads
from server.campaigns.models import Campaign
from server.campaigns.publications import (
    LiveSnapshot,
    load_published,
    rules_as_of,
    rules_from_snapshot,
    screens_facts,
)
from server.campaigns.snapshot import campaign_snapshot
from server.db import MAX_ID
from server.errors import FieldError, NotFound, ValidationFailed
from server.scheduling import Schedule, day_start, occurrences, zone
from server.screens.models import Group, GroupMember, Screen

MAX_DAYS: Final = 31
ALWAYS: Final = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CalendarCell:
    day: date
    playlists: tuple[str, ...]  # what rules put on screen that day, in order of time
    default: bool  # the organisation's default playlist fills some of the day
    conflict: bool  # rules tied on layer, priority and target some time that day
    empty: bool  # no rule plays at all that day (the default playlist or the idle card)
    theme: bool = False  # a one-day entry (a theme day) plays some of the day


@dataclass(frozen=True)
class CalendarRow:
    screen_id: int
    screen: str
    timezone: str
    cells: tuple[CalendarCell, ...]


NESTING: Final = 50  # deeper than any group tree; a corrupt loop cannot hang a request


def readable_group(session: Session, actor: Actor, group_id: int) -> Group:
    """A group whose screens the actor may look at (its subtrees' and their ancestors')."""
    group = session.get(Group, group_id) if 0 < group_id <= MAX_ID else None
    if group is None or not reads(actor, group.organisation):
        raise NotFound(f"no group {group_id}")
    return group


def members_select(session: Session, group: Group) -> Select[int]:
    """Ids of the screens in `group` or in a group nested below it."""
    found = {group.id}
    frontier = {group.id}
    for _ in range(NESTING):
        children = set(session.scalars(select(Group.id).where(Group.parent_id.in_(frontier))))
        frontier = children - found
        if not frontier:
            break
        found |= frontier
    return select(GroupMember.screen_id).where(GroupMember.group_id.in_(sorted(found)))


def group_screens(session: Session, actor: Actor, group: Group, limit: int) -> list[Screen]:
    """The screens of `group` (nested groups included) the actor sees, by name."""
    stmt = (
        select(Screen)
        .join(Screen.organisation)
        .where(Screen.id.in_(members_select(session, group)), in_scope(actor))
        .order_by(Screen.name, Screen.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _check_days(days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(
            f"a calendar shows 1 to {MAX_DAYS} days", [FieldError("days", f"1 to {MAX_DAYS}")]
        )


def fleet_calendar(
    session: Session,
    org: Organisation,
    first: date,
    days: int,
    now: datetime,
    group: Group | None = None,
) -> list[CalendarRow]:
    """Each screen of `org`'s subtree (only those in `group` or a group nested in it, when
    given) over `days` local days from `first`."""
    _check_days(days)
    stmt = (
        select(Screen)
        .join(Screen.organisation)
        .where(Organisation.path.startswith(org.path))
        .order_by(Screen.name, Screen.id)
    )
    if group is not None:
        stmt = stmt.where(Screen.id.in_(members_select(session, group)))
    screens = list(session.scalars(stmt))
    if not screens:
        return []
    content = load_published(session, now)
    rules = rules_as_of(content.rules, now)
    schedule = Schedule(rules)
    one_day = {r.id for r in rules if r.interval is None and r.first_date == r.last_date}
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
                        theme=any(s.rule in one_day for s in won),
                    )
                )
            done[key] = tuple(cells)
        rows.append(CalendarRow(screen.id, screen.name, screen.timezone, done[key]))
    return rows


# -- a campaign's week --------------------------------------------------------------------


@dataclass(frozen=True)
class HourCell:
    """One hour of one day of a campaign: the playlists its entries play then, the
    strongest first (layer, then priority), and whether a theme day (a one-day entry) is
    among them."""

    hour: int
    playlists: tuple[str, ...]
    theme: bool


@dataclass(frozen=True)
class WeekDay:
    day: date
    theme: tuple[str, ...]  # playlists of one-day entries on this day
    hours: tuple[HourCell, ...]


def campaign_week(campaign: Campaign, first: date, days: int = 7) -> list[WeekDay]:
    """What the campaign's schedule entries play, hour by hour, in the campaign's zone.

    Read from the campaign as it is now (draft or not) through the engine's own recurrence
    expansion, targets aside: the week of the campaign, not of one screen. Entries naming
    screen-local time are read in the campaign's zone here."""
    _check_days(days)
    snap = campaign_snapshot(campaign)
    # As if always published: the week shows the entries, not when they went live.
    live = LiveSnapshot(0, campaign.id, ALWAYS, None, None, snap)
    rules, playlists = rules_from_snapshot(live)
    tz = zone(campaign.timezone)
    start = day_start(first, tz)
    end = day_start(first + timedelta(days=days), tz)
    strength = {r.id: (int(r.layer), r.priority) for r in rules}
    spans: list[tuple[datetime, datetime, str, bool]] = []
    for rule in rules:
        theme = rule.interval is None and rule.first_date == rule.last_date
        for occ in occurrences(rule, campaign.timezone, start, end):
            spans.append((occ.start, occ.end, rule.id, theme))
    names = {r.id: playlists[r.playlist].name for r in rules}
    out = []
    for n in range(days):
        day = first + timedelta(days=n)
        cells = []
        for hour in range(24):
            lo = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
            hi = lo + timedelta(hours=1)
            hits = [(rid, th) for s, e, rid, th in spans if s < hi and e > lo]
            hits.sort(key=lambda h: strength[h[0]], reverse=True)
            cells.append(
                HourCell(
                    hour=hour,
                    playlists=tuple(dict.fromkeys(names[rid] for rid, _ in hits)),
                    theme=any(th for _, th in hits),
                )
            )
        day_lo, day_hi = day_start(day, tz), day_start(day + timedelta(days=1), tz)
        theme_names = tuple(
            dict.fromkeys(names[rid] for s, e, rid, th in spans if th and s < day_hi and e > day_lo)
        )
        out.append(WeekDay(day, theme_names, tuple(cells)))
    return out
