"""Proof of play: events from players, stored once each, and what the reports add up.

An event copies the names it refers to (screen, playlist, campaign, asset title), so it
keeps its meaning after any of them is renamed or deleted. A played variant is traced
back to its asset's own hash, so a poster counts as one asset on every screen size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, case, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.accounts.organisations import org_or_404
from server.assets.models import Asset, Variant
from server.auth.actors import Actor
from server.auth.scope import in_scope
from server.errors import FieldError, ValidationFailed
from server.reports.models import PlayEvent
from server.scheduling.localtime import check_zone, day_containing, day_start, zone
from server.screens.devices import DeviceScreen
from server.screens.groups import descendant_group_ids, get_group
from server.screens.models import GroupMember

MAX_BATCH: Final = 1000
MAX_DURATION: Final = timedelta(hours=24)
MAX_FUTURE: Final = timedelta(minutes=5)


@dataclass(frozen=True)
class Play:
    """One event as a player reports it (docs/player-protocol.md §4)."""

    id: str
    asset: str
    playlist: str | None
    campaign: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PlaysResult:
    accepted: int
    duplicates: int


def implausible(plays: Sequence[Play], now: datetime) -> list[FieldError]:
    """Why each implausible event is refused, as `events[i].field: reason`."""
    errors = []
    for i, play in enumerate(plays):
        if play.end < play.start:
            errors.append(FieldError(f"events[{i}].end", "before start"))
        elif play.end - play.start > MAX_DURATION:
            errors.append(FieldError(f"events[{i}].end", "more than 24 hours after start"))
        elif play.end > now + MAX_FUTURE:
            errors.append(FieldError(f"events[{i}].end", "in the server's future"))
    return errors


def _asset_names(
    session: Session, shas: set[str], organisation_id: int
) -> dict[str, tuple[str, str]]:
    """played sha -> (asset sha, title); variants resolve to their source asset.

    Titles come only from assets the screen's organisation may play (its own and its
    ancestors'): a hash another organisation's screen reports names nothing of theirs."""
    path = session.scalar(select(Organisation.path).where(Organisation.id == organisation_id))
    usable = [int(p) for p in (path or "").strip("/").split("/") if p]
    source = {
        sha: src
        for sha, src in session.execute(
            select(Variant.sha256, Variant.source_sha256).where(Variant.sha256.in_(sorted(shas)))
        )
    }
    wanted = {source.get(sha, sha) for sha in shas}
    titles: dict[str, str] = {}
    for sha, title, name in session.execute(
        select(Asset.sha256, Asset.title, Asset.original_name)
        .where(Asset.sha256.in_(sorted(wanted)), Asset.organisation_id.in_(usable))
        .order_by(Asset.id)
    ):
        titles.setdefault(sha, title or name or "")
    return {sha: (source.get(sha, sha), titles.get(source.get(sha, sha), "")) for sha in shas}


def record_plays(
    session: Session, screen: DeviceScreen, plays: Sequence[Play], now: datetime
) -> PlaysResult:
    """Store a batch; all or nothing. An event id the screen already reported counts as a
    duplicate (ids are the player's, unique per screen)."""
    if len(plays) > MAX_BATCH:
        raise ValidationFailed(
            f"at most {MAX_BATCH} events a batch", [FieldError("events", f"at most {MAX_BATCH}")]
        )
    errors = implausible(plays, now)
    if errors:
        raise ValidationFailed(f"{len(errors)} implausible events; nothing stored", errors)
    unique = list({p.id: p for p in plays}.values())
    if not unique:
        return PlaysResult(0, 0)
    names = _asset_names(session, {p.asset for p in unique}, screen.organisation_id)
    rows = [
        {
            "event_id": p.id,
            "screen_id": screen.id,
            "screen_name": screen.name,
            "organisation_id": screen.organisation_id,
            "asset_sha256": names[p.asset][0],
            "asset_title": names[p.asset][1][:300],
            "playlist": (p.playlist or "")[:200],
            "campaign": (p.campaign or "")[:300],
            "start": p.start,
            "end": p.end,
            "duration_ms": (p.end - p.start) // timedelta(milliseconds=1),
            "received_at": now,
        }
        for p in unique
    ]
    dialect = session.get_bind().dialect.name
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PlayEvent)
    if dialect in ("postgresql", "sqlite"):
        inserted = session.execute(
            stmt.on_conflict_do_nothing(index_elements=["screen_id", "event_id"]).returning(
                PlayEvent.event_id
            ),
            rows,
        ).all()
        accepted = len(inserted)
    else:  # pragma: no cover - the project runs on SQLite and PostgreSQL
        known = set(
            session.scalars(
                select(PlayEvent.event_id).where(
                    PlayEvent.screen_id == screen.id,
                    PlayEvent.event_id.in_([r["event_id"] for r in rows]),
                )
            )
        )
        fresh = [r for r in rows if r["event_id"] not in known]
        if fresh:
            session.execute(insert(PlayEvent), fresh)
        accepted = len(fresh)
    return PlaysResult(accepted=accepted, duplicates=len(plays) - accepted)


GROUPS: Final = ("day", "campaign", "playlist", "asset", "screen")
MAX_REPORT_DAYS: Final = 400


@dataclass(frozen=True)
class ReportRow:
    """One group's totals; the fields of dimensions not grouped by are None."""

    day: date | None
    campaign: str | None
    playlist: str | None
    asset_sha256: str | None
    asset_title: str | None
    screen_id: int | None
    screen_name: str | None
    plays: int
    seconds: float


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    timezone: str
    group_by: tuple[str, ...]
    rows: list[ReportRow]

    @property
    def plays(self) -> int:
        return sum(r.plays for r in self.rows)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.rows)


def check_group_by(value: str | Sequence[str]) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else list(value)
    wanted = tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
    bad = [g for g in wanted if g not in GROUPS]
    if bad:
        raise ValidationFailed(
            f"cannot group by {', '.join(bad)}",
            [FieldError("group_by", f"a comma-separated list of: {', '.join(GROUPS)}")],
        )
    return wanted


def report_span(
    since: datetime | date | None, until: datetime | date | None, timezone: str, now: datetime
) -> tuple[datetime, datetime]:
    """[since, until) as instants. A date `until` names the last day included (its next
    midnight ends the span); a date `since`, its own midnight. Defaults: now, 7 days before.
    """
    tz = zone(timezone)
    if until is None:
        end = now
    elif isinstance(until, datetime):
        end = until
    else:
        end = day_start(until + timedelta(days=1), tz)
    if since is None:
        start = end - timedelta(days=7)
    elif isinstance(since, datetime):
        start = since
    else:
        start = day_start(since, tz)
    return start, end


def play_report(
    session: Session,
    *,
    since: datetime,
    until: datetime,
    timezone: str,
    group_by: Sequence[str],
    where: Sequence[ColumnElement[bool]] = (),
) -> Report:
    """Plays that started in [since, until), grouped; `where` scopes them (join-free clauses
    on PlayEvent and Organisation)."""
    if until <= since:
        raise ValidationFailed("the report is empty", [FieldError("until", "not after since")])
    tz = zone(timezone)
    first = day_containing(since, tz)
    last = day_containing(until - timedelta(microseconds=1), tz)
    if (last - first).days >= MAX_REPORT_DAYS:
        raise ValidationFailed(
            f"at most {MAX_REPORT_DAYS} days a report",
            [FieldError("until", f"at most {MAX_REPORT_DAYS} days after since")],
        )
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    # Local days in SQL that both SQLite and PostgreSQL evaluate alike: the day's index by
    # comparing with each next local midnight (computed here, DST included).
    bucket = case(
        *((PlayEvent.start < day_start(d + timedelta(days=1), tz), i) for i, d in enumerate(days)),
        else_=len(days) - 1,
    )
    dims: dict[str, list[Any]] = {
        "day": [bucket.label("day")],
        "campaign": [PlayEvent.campaign],
        "playlist": [PlayEvent.playlist],
        "asset": [PlayEvent.asset_sha256, PlayEvent.asset_title],
        "screen": [PlayEvent.screen_id, PlayEvent.screen_name],
    }
    groups = check_group_by(group_by)
    columns = [c for g in groups for c in dims[g]]
    stmt = (
        select(
            *columns, func.count(PlayEvent.id), func.coalesce(func.sum(PlayEvent.duration_ms), 0)
        )
        .select_from(PlayEvent)
        .join(Organisation, Organisation.id == PlayEvent.organisation_id)
        .where(PlayEvent.start >= since, PlayEvent.start < until, *where)
    )
    if columns:
        stmt = stmt.group_by(*columns).order_by(*columns)
    rows = []
    for record in session.execute(stmt):
        values = dict(zip([c.key for c in columns], record, strict=False))
        count, total_ms = record[-2], record[-1]
        if not count:
            continue
        rows.append(
            ReportRow(
                day=days[int(values["day"])] if "day" in values else None,
                campaign=values.get("campaign"),
                playlist=values.get("playlist"),
                asset_sha256=values.get("asset_sha256"),
                asset_title=values.get("asset_title"),
                screen_id=values.get("screen_id"),
                screen_name=values.get("screen_name"),
                plays=int(count),
                seconds=int(total_ms) / 1000,
            )
        )
    return Report(since, until, timezone, groups, rows)


def default_zone(session: Session, actor: Actor, organisation: Organisation | None) -> str:
    """The organisation's zone: the one reported on, else the one the actor works in
    (when it sees a single subtree), else UTC."""
    if organisation is not None:
        return organisation.timezone or "UTC"
    roots = actor.scope_paths
    if len(roots) == 1:
        own = session.scalar(select(Organisation.timezone).where(Organisation.path == roots[0]))
        return own or "UTC"
    return "UTC"


def plays_report(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    since: datetime | date | None = None,
    until: datetime | date | None = None,
    timezone: str | None = None,
    group_by: str | Sequence[str] = GROUPS,
    organisation_id: int | None = None,
    screen_id: int | None = None,
    campaign: str | None = None,
    playlist: str | None = None,
    group_id: int | None = None,
) -> Report:
    """The plays the actor may see, by default over the last 7 days. A date `since` means
    its local midnight, a date `until` the last day included; days are read in `timezone`,
    by default the organisation's (`default_zone`). A group means the screens in it and in
    the groups nested below it, as they are now."""
    where = [in_scope(actor)]
    org = None
    if organisation_id is not None:
        org = org_or_404(session, actor, organisation_id)
        where.append(Organisation.path.startswith(org.path))
    timezone = timezone or default_zone(session, actor, org)
    problem = check_zone(timezone)
    if problem is not None:
        raise ValidationFailed(f"unknown time zone {timezone!r}", [FieldError("timezone", problem)])
    start, end = report_span(since, until, timezone, now)
    if screen_id is not None:
        where.append(PlayEvent.screen_id == screen_id)
    if campaign is not None:
        where.append(PlayEvent.campaign == campaign)
    if playlist is not None:
        where.append(PlayEvent.playlist == playlist)
    if group_id is not None:
        group = get_group(session, actor, group_id)
        ids = sorted(descendant_group_ids(session, [group.id]))
        members = select(GroupMember.screen_id).where(GroupMember.group_id.in_(ids))
        where.append(PlayEvent.screen_id.in_(members))
    return play_report(
        session, since=start, until=end, timezone=timezone, group_by=group_by, where=where
    )


MAX_CHOICES: Final = 500


@dataclass(frozen=True)
class Choices:
    """Names to filter by: the campaigns and playlists of the plays the actor may see."""

    campaigns: list[str]
    playlists: list[str]


def report_choices(session: Session, actor: Actor) -> Choices:
    """Distinct campaign and playlist names of visible plays (at most MAX_CHOICES each), so
    a filter offers what was recorded, renamed or deleted ones included."""

    def names(column: Any) -> list[str]:
        stmt = (
            select(column)
            .distinct()
            .select_from(PlayEvent)
            .join(Organisation, Organisation.id == PlayEvent.organisation_id)
            .where(in_scope(actor), column != "")
            .order_by(column)
            .limit(MAX_CHOICES)
        )
        return list(session.scalars(stmt))

    return Choices(names(PlayEvent.campaign), names(PlayEvent.playlist))
