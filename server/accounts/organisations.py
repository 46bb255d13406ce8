"""The organisation tree: creating nodes with their materialised path, and walking it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.auth import audit
from server.auth.actors import Actor
from server.auth.scope import in_scope
from server.db import MAX_ID
from server.errors import Conflict, FieldError, NotFound, ValidationFailed
from server.playlists.models import Playlist
from server.scheduling.localtime import check_zone


def check_timezone(name: str, field: str = "timezone") -> str:
    """`name` if it is an IANA time zone; ValidationFailed naming `field` otherwise."""
    problem = check_zone(name)
    if problem is not None:
        raise ValidationFailed(f"unknown time zone {name!r}", [FieldError(field, problem)])
    return name


def create_organisation(
    session: Session,
    name: str,
    parent: Organisation | None,
    now: datetime,
    *,
    timezone: str | None = None,
) -> Organisation:
    """A new node under `parent` (None: a root); its time zone defaults to the parent's."""
    name = name.strip()
    if not name:
        raise ValidationFailed(
            "an organisation needs a name", [FieldError("name", "must not be empty")]
        )
    if session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise Conflict(
            f"an organisation named {name!r} exists", [FieldError("name", "already taken")]
        )
    inherited = parent.timezone if parent else "UTC"
    zone = check_timezone(timezone if timezone is not None else inherited)
    org = Organisation(
        name=name,
        parent_id=parent.id if parent else None,
        timezone=zone,
        created_at=now,
        path="",
    )
    session.add(org)
    session.flush()  # the id is part of the path
    org.path = (parent.path if parent else "/") + f"{org.id}/"
    return org


def by_name(session: Session, name: str) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        raise NotFound(f"no organisation named {name!r}")
    return org


def default_playlist_id(session: Session, org_id: int) -> int | None:
    """The playlist flagged as this organisation's own default, if any."""
    return session.scalar(
        select(Playlist.id).where(Playlist.organisation_id == org_id, Playlist.is_default.is_(True))
    )


def subtree_ids(session: Session, org: Organisation) -> list[int]:
    return list(
        session.scalars(select(Organisation.id).where(Organisation.path.startswith(org.path)))
    )


def org_or_404(session: Session, actor: Actor, org_id: int) -> Organisation:
    """The organisation `org_id`, if the actor may see it; otherwise it does not exist."""
    org = session.get(Organisation, org_id) if 0 < org_id <= MAX_ID else None
    if org is None or not actor.sees(org.path):
        raise NotFound(f"no organisation {org_id}")
    return org


def organisations_select(actor: Actor, parent_id: int | None, name: str | None) -> Select[Any]:
    """The organisations the actor may see, filtered by parent and part of the name."""
    stmt = select(Organisation).where(in_scope(actor))
    if parent_id is not None:
        stmt = stmt.where(Organisation.parent_id == parent_id)
    if name:
        stmt = stmt.where(Organisation.name.contains(name, autoescape=True))
    return stmt


def add_child(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    name: str,
    parent_id: int,
    timezone: str | None = None,
) -> Organisation:
    """A new organisation under one the actor administers, in `timezone` (default: the
    parent's); audited, the caller commits."""
    parent = org_or_404(session, actor, parent_id)
    actor.require(parent.path, Role.ADMIN)
    org = create_organisation(session, name, parent, now, timezone=timezone)
    audit.record(
        session, actor, now, "create", "organisation", org.id, org.id,
        after={"name": org.name, "parent_id": parent.id, "timezone": org.timezone},
    )
    return org


def rename(
    session: Session,
    actor: Actor,
    now: datetime,
    org_id: int,
    name: str | None,
    *,
    timezone: str | None = None,
) -> Organisation:
    """Rename an organisation the actor administers (names are unique) and/or change its
    time zone, which new screens start in (audited)."""
    org = org_or_404(session, actor, org_id)
    actor.require(org.path, Role.ADMIN)
    before = {"name": org.name, "timezone": org.timezone}
    if timezone is not None and timezone != org.timezone:
        org.timezone = check_timezone(timezone)
    if name is not None and name != org.name:
        if session.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
            raise Conflict(
                f"an organisation named {name!r} exists", [FieldError("name", "already taken")]
            )
        org.name = name
    audit.record(
        session, actor, now, "update", "organisation", org.id, org.id,
        before=before, after={"name": org.name, "timezone": org.timezone},
    )
    return org


def delete(session: Session, actor: Actor, now: datetime, org_id: int) -> None:
    """Delete an empty organisation; Conflict while it owns anything (commits)."""
    org = org_or_404(session, actor, org_id)
    actor.require(org.path, Role.ADMIN)
    if org.parent_id is None:
        raise Conflict("the root organisation cannot be deleted")
    audit.record(
        session, actor, now, "delete", "organisation", org.id, org.parent_id,
        before={"name": org.name},
    )
    session.delete(org)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            "the organisation still has members, screens, content or sub-organisations"
        ) from None
