"""The audit log: every change records who, what, when, and a short before/after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.auth.actors import Actor
from server.auth.models import AuditEvent
from server.auth.scope import role_clause


class Who(Protocol):
    """Whoever made a change: an operator (`server.auth.Actor`) or a command (no user)."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def label(self) -> str: ...


def record(
    session: Session,
    who: Who,
    at: datetime,
    action: str,
    object_type: str,
    object_id: object,
    organisation_id: int | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit row to the caller's transaction: it commits with the change or not at all.

    With both `before` and `after`, only the fields that changed are kept.
    """
    summary: dict[str, Any] = {}
    if before is not None and after is not None:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        summary = {
            "before": {k: before.get(k) for k in changed},
            "after": {k: after.get(k) for k in changed},
        }
    elif after is not None:
        summary = {"after": after}
    elif before is not None:
        summary = {"before": before}
    event = AuditEvent(
        at=at,
        actor_user_id=who.user_id or None,  # 0 is the command line's stand-in user
        actor=who.label,
        organisation_id=organisation_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        summary=summary,
    )
    session.add(event)
    return event


def changed(
    session: Session,
    who: Who,
    at: datetime,
    action: str,
    row: Any,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """`record` for a model row: its type from its table ("screens" ▸ "screen"), its
    organisation from its `organisation_id` when it has one."""
    object_type = row.__tablename__.removesuffix("s")
    organisation_id = getattr(row, "organisation_id", None)
    return record(
        session, who, at, action, object_type, row.id, organisation_id, before=before, after=after
    )


@dataclass(frozen=True)
class AuditFilter:
    organisation_path: str | None = None  # this organisation and the ones below it
    object_type: str | None = None
    object_id: str | None = None
    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _visible(actor: Actor) -> ColumnElement[bool]:
    """Events of the organisations the actor administers; of none, for an admin of all."""
    visible = role_clause(actor, Organisation.path, Role.ADMIN)
    if actor.roles.get("/") is Role.ADMIN:
        visible = or_(visible, AuditEvent.organisation_id.is_(None))
    return visible


def audit_select(actor: Actor, filters: AuditFilter) -> Select[AuditEvent, str]:
    """Audit events of the organisations the actor administers, with each organisation's
    name, newest first; events of no organisation only for an admin of everything."""
    stmt = (
        select(AuditEvent, Organisation.name)
        .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
        .where(_visible(actor))
    )
    if filters.organisation_path is not None:
        stmt = stmt.where(Organisation.path.startswith(filters.organisation_path))
    for column, value in (
        (AuditEvent.object_type, filters.object_type),
        (AuditEvent.object_id, filters.object_id),
        (AuditEvent.action, filters.action),
        (AuditEvent.actor, filters.actor),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.since is not None:
        stmt = stmt.where(AuditEvent.at >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(AuditEvent.at < filters.until)
    return stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


MAX_KINDS = 500


@dataclass(frozen=True)
class AuditKinds:
    """What the actor's audit events name: to offer as filters."""

    actions: list[str]
    object_types: list[str]
    actors: list[str]


def audit_kinds(session: Session, actor: Actor) -> AuditKinds:
    """Distinct actions, object kinds and actors of the events the actor may read."""

    def distinct(column: Any) -> list[str]:
        stmt = (
            select(column)
            .distinct()
            .select_from(AuditEvent)
            .outerjoin(Organisation, Organisation.id == AuditEvent.organisation_id)
            .where(_visible(actor))
            .order_by(column)
            .limit(MAX_KINDS)
        )
        return list(session.scalars(stmt))

    return AuditKinds(
        distinct(AuditEvent.action), distinct(AuditEvent.object_type), distinct(AuditEvent.actor)
    )


def audit_page(
    session: Session, actor: Actor, filters: AuditFilter, *, limit: int, offset: int
) -> tuple[list[tuple[AuditEvent, str | None]], int]:
    """One page of `audit_select`, newest first, and how many events match in all."""
    stmt = audit_select(actor, filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    page = session.execute(stmt.limit(limit).offset(offset))
    rows: list[tuple[AuditEvent, str | None]] = [(event, name) for event, name in page]
    return rows, int(total or 0)
