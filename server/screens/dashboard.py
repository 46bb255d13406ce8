"""The fleet dashboard: counts by state and one page of screens with everything an admin
asks about them, in a fixed number of queries whatever the fleet's size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, selectinload

from server.accounts.models import Organisation
from server.assets.models import Asset, Variant
from server.auth.actors import Actor
from server.auth.scope import in_scope, readable_org_clause
from server.config import Settings
from server.screens.groups import descendant_group_ids
from server.screens.models import GroupMember, Screen
from server.screens.services import offline_cutoff

State = Literal["online", "offline", "never"]
STATES: Final = ("online", "offline", "never", "errors")
SORTS: Final = ("name", "organisation", "last_seen_at", "state")
MAX_ERRORS_SHOWN: Final = 3


@dataclass(frozen=True)
class FleetCounts:
    online: int
    offline: int
    never: int
    errors: int

    @property
    def total(self) -> int:
        return self.online + self.offline + self.never


@dataclass(frozen=True)
class Showing:
    title: str
    asset_id: int | None
    thumbnail_version: str  # the asset's hash prefix, for a cacheable thumbnail URL
    playlist: str


@dataclass(frozen=True)
class DashboardRow:
    id: int
    name: str
    organisation: str
    groups: tuple[str, ...]
    state: State
    last_seen_at: datetime | None
    offline_since: datetime | None
    showing: Showing | None
    player_version: str
    disk_free_bytes: int | None
    cache_shortage_bytes: int | None
    errors: tuple[str, ...]


@dataclass(frozen=True)
class DashboardFilter:
    scope_path: str | None = None  # an organisation subtree
    state: str | None = None
    organisation_id: int | None = None
    group_id: int | None = None
    text: str | None = None


def has_errors(session: Session) -> ColumnElement[bool]:
    """Screens whose last status reported at least one error, in each backend's JSON."""
    if session.get_bind().dialect.name == "postgresql":
        errors = Screen.status.cast(JSONB)["errors"]
        return (
            case((func.jsonb_typeof(errors) == "array", func.jsonb_array_length(errors)), else_=0)
            > 0
        )
    return func.coalesce(func.json_array_length(Screen.status, "$.errors"), 0) > 0


def _where(
    session: Session, actor: Actor, filters: DashboardFilter, cutoff: datetime
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [in_scope(actor)]
    if filters.scope_path:
        clauses.append(Organisation.path.startswith(filters.scope_path))
    if filters.organisation_id is not None:
        clauses.append(Screen.organisation_id == filters.organisation_id)
    if filters.group_id is not None:
        ids = descendant_group_ids(session, [filters.group_id])
        member = select(GroupMember.screen_id).where(GroupMember.group_id.in_(sorted(ids)))
        clauses.append(Screen.id.in_(member))
    if filters.text:
        clauses.append(Screen.name.contains(filters.text, autoescape=True))
    if filters.state == "online":
        clauses.append(Screen.last_seen_at >= cutoff)
    elif filters.state == "offline":
        clauses.append(Screen.last_seen_at < cutoff)
    elif filters.state == "never":
        clauses.append(Screen.last_seen_at.is_(None))
    elif filters.state == "errors":
        clauses.append(has_errors(session))
    return clauses


def fleet_counts(
    session: Session,
    actor: Actor,
    filters: DashboardFilter,
    now: datetime,
    settings: Settings,
) -> FleetCounts:
    """Screens online, offline, never connected and reporting errors: one query."""
    cutoff = offline_cutoff(now, settings)
    base = DashboardFilter(scope_path=filters.scope_path)
    row = session.execute(
        select(
            func.count().filter(Screen.last_seen_at >= cutoff),
            func.count().filter(Screen.last_seen_at < cutoff),
            func.count().filter(Screen.last_seen_at.is_(None)),
            func.count().filter(has_errors(session)),
        )
        .select_from(Screen)
        .join(Organisation, Organisation.id == Screen.organisation_id)
        .where(*_where(session, actor, base, cutoff))
    ).one()
    return FleetCounts(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def _sorted(stmt: Select[Screen, str], sort: str, cutoff: datetime) -> Select[Screen, str]:
    key = sort.removeprefix("-")
    column: Any = {
        "name": Screen.name,
        "organisation": Organisation.name,
        "last_seen_at": Screen.last_seen_at,
        "state": case(
            (Screen.last_seen_at.is_(None), 2), (Screen.last_seen_at < cutoff, 1), else_=0
        ),
    }.get(key, Screen.name)
    order = column.desc() if sort.startswith("-") else column.asc()
    return stmt.order_by(order, Screen.id)


def fleet_page(
    session: Session,
    actor: Actor,
    filters: DashboardFilter,
    *,
    sort: str,
    limit: int,
    offset: int,
    now: datetime,
    settings: Settings,
) -> tuple[list[DashboardRow], int]:
    """One page of the filtered fleet and the number of screens that match."""
    cutoff = offline_cutoff(now, settings)
    where = _where(session, actor, filters, cutoff)
    total = session.scalar(
        select(func.count())
        .select_from(Screen)
        .join(Organisation, Organisation.id == Screen.organisation_id)
        .where(*where)
    )
    stmt = (
        select(Screen, Organisation.name)
        .join(Organisation, Organisation.id == Screen.organisation_id)
        .where(*where)
        .options(selectinload(Screen.groups))
    )
    rows = session.execute(_sorted(stmt, sort, cutoff).limit(limit).offset(offset)).all()
    statuses = {s.id: (s.status if isinstance(s.status, dict) else {}) for s, _ in rows}
    shown = _showing(session, actor, statuses.values())
    grace = timedelta(seconds=settings.poll_interval_s * settings.offline_after_polls)
    out = [
        _row(screen, org_name, statuses[screen.id], shown, cutoff, grace)
        for screen, org_name in rows
    ]
    return out, int(total or 0)


def _row(
    screen: Screen,
    org_name: str,
    status: dict[str, Any],
    shown: dict[str, Asset],
    cutoff: datetime,
    grace: timedelta,
) -> DashboardRow:
    seen = screen.last_seen_at
    state: State = "never" if seen is None else ("online" if seen >= cutoff else "offline")
    errors = status.get("errors")
    version = status.get("player_version")
    return DashboardRow(
        id=screen.id,
        name=screen.name,
        organisation=org_name,
        groups=tuple(sorted(g.name for g in screen.groups)),
        state=state,
        last_seen_at=seen,
        offline_since=seen + grace if state == "offline" and seen is not None else None,
        showing=showing_of(status, shown),
        player_version=version[:40] if isinstance(version, str) else "",
        disk_free_bytes=_int(status.get("disk_free_bytes")),
        cache_shortage_bytes=_int(status.get("cache_shortage_bytes")),
        errors=tuple(str(e)[:200] for e in errors[:MAX_ERRORS_SHOWN])
        if isinstance(errors, list)
        else (),
    )


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def showing_of(status: dict[str, Any], shown: dict[str, Asset]) -> Showing | None:
    """What the status says is on screen, by title: never a bare hash."""
    sha, playlist = status.get("asset"), status.get("playlist")
    playlist = playlist[:80] if isinstance(playlist, str) else ""
    if not isinstance(sha, str) or not sha:
        return Showing("", None, "", playlist) if playlist else None
    asset = shown.get(sha)
    if asset is None:
        return Showing("", None, "", playlist)
    return Showing(asset.title or asset.original_name, asset.id, asset.sha256[:16], playlist)


def _showing(session: Session, actor: Actor, statuses: Any) -> dict[str, Asset]:
    """The assets behind the hashes players report (a variant's hash names its source):
    two queries for the whole page."""
    shas = {s.get("asset") for s in statuses}
    wanted = sorted(s for s in shas if isinstance(s, str) and len(s) == 64)
    if not wanted:
        return {}
    sources = dict(
        session.execute(
            select(Variant.sha256, Variant.source_sha256).where(Variant.sha256.in_(wanted))
        ).all()
    )
    assets = session.scalars(
        select(Asset)
        .join(Organisation, Organisation.id == Asset.organisation_id)
        .where(Asset.sha256.in_(sorted(set(wanted) | set(sources.values()))))
        .where(readable_org_clause(actor))
        .order_by(Asset.id)
    ).all()
    by_sha = {a.sha256: a for a in assets}
    return {s: by_sha[k] for s in wanted if (k := sources.get(s, s)) in by_sha}
