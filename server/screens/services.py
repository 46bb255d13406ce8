"""Screens as operators manage them: pre-registration, details, tags, groups, online status."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, column, exists, func, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session, selectinload

from server.accounts.models import Organisation, Role
from server.auth import audit
from server.auth.actors import Actor
from server.auth.scope import in_scope, reads
from server.config import Settings
from server.db import MAX_ID
from server.errors import Conflict, FieldError, NotFound, ValidationFailed
from server.screens.groups import descendant_group_ids
from server.screens.models import Group, GroupMember, Screen
from server.screens.placement import check_timezone

TAG = re.compile(r"^[\w-]{1,50}$")
MAX_TAGS = 50
MAX_GROUPS = 100
EDITABLE = ("name", "timezone", "width", "height", "location", "tags", "group_ids")


def offline_cutoff(now: datetime, settings: Settings) -> datetime:
    """Screens last seen before this instant are offline."""
    return now - timedelta(seconds=settings.poll_interval_s * settings.offline_after_polls)


def is_online(last_seen_at: datetime | None, now: datetime, settings: Settings) -> bool:
    """Online means seen within `offline_after_polls` poll intervals of `now`."""
    return last_seen_at is not None and last_seen_at >= offline_cutoff(now, settings)


def check_tags(tags: Sequence[str], field: str = "tags") -> list[str]:
    """Tags are 1–50 word characters or dashes; duplicates collapse, order is kept."""
    if len(tags) > MAX_TAGS:
        raise ValidationFailed(
            f"at most {MAX_TAGS} tags", [FieldError(field, f"at most {MAX_TAGS} tags")]
        )
    out: list[str] = []
    for i, tag in enumerate(tags):
        if not TAG.match(tag):
            raise ValidationFailed(
                f"{tag[:60]!r} is not a tag",
                [FieldError(f"{field}[{i}]", "1–50 letters, digits, _ or -")],
            )
        if tag not in out:
            out.append(tag)
    return out


def get_screen(session: Session, actor: Actor, screen_id: int, role: Role = Role.VIEWER) -> Screen:
    """The screen, if the actor sees it; 403 when the actor's role there is below `role`."""
    screen = session.get(Screen, screen_id) if 0 < screen_id <= MAX_ID else None
    if screen is None or not actor.sees(screen.organisation.path):
        raise NotFound(f"no screen {screen_id}")
    actor.require(screen.organisation.path, role)
    return screen


def _org(session: Session, actor: Actor, org_id: int, role: Role) -> Organisation:
    org = session.get(Organisation, org_id) if 0 < org_id <= MAX_ID else None
    if org is None or not actor.sees(org.path):
        raise NotFound(f"no organisation {org_id}")
    actor.require(org.path, role)
    return org


def _groups_for(
    session: Session, actor: Actor, org: Organisation, group_ids: Sequence[int]
) -> list[Group]:
    """Groups a screen of `org` may join: readable ones of its organisation or an ancestor."""
    if len(group_ids) > MAX_GROUPS:
        raise ValidationFailed(
            f"at most {MAX_GROUPS} groups", [FieldError("group_ids", f"at most {MAX_GROUPS}")]
        )
    groups: list[Group] = []
    for i, gid in enumerate(dict.fromkeys(group_ids)):
        group = session.get(Group, gid) if 0 < gid <= MAX_ID else None
        field = f"group_ids[{i}]"
        if group is None or not reads(actor, group.organisation):
            raise ValidationFailed(f"no group {gid}", [FieldError(field, "no such group")])
        if not org.path.startswith(group.organisation.path):
            raise ValidationFailed(
                f"group {gid} belongs to another branch of the tree",
                [FieldError(field, "group of another organisation branch")],
            )
        groups.append(group)
    return groups


def _name_free(session: Session, org_id: int, name: str, screen_id: int | None = None) -> None:
    stmt = select(Screen.id).where(Screen.organisation_id == org_id, Screen.name == name)
    if screen_id is not None:
        stmt = stmt.where(Screen.id != screen_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            f"a screen named {name!r} exists here", [FieldError("name", "already taken")]
        )


def audit_summary(screen: Screen) -> dict[str, Any]:
    """The fields an audit record compares."""
    return {
        "name": screen.name,
        "timezone": screen.timezone,
        "width": screen.width,
        "height": screen.height,
        "location": screen.location,
        "tags": list(screen.tags),
        "group_ids": sorted(g.id for g in screen.groups),
    }


def create_screen(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    organisation_id: int,
    name: str,
    timezone: str | None = None,
    width: int = 1920,
    height: int = 1080,
    location: str = "",
    tags: Sequence[str] = (),
    group_ids: Sequence[int] = (),
) -> Screen:
    """Pre-register a screen (in its organisation's zone unless told); its player pairs later."""
    org = _org(session, actor, organisation_id, Role.OPERATOR)
    timezone = check_timezone(timezone if timezone is not None else org.timezone)
    clean_tags = check_tags(tags)
    groups = _groups_for(session, actor, org, group_ids)
    _name_free(session, org.id, name)
    screen = Screen(
        organisation_id=org.id,
        organisation=org,
        name=name,
        timezone=timezone,
        width=width,
        height=height,
        location=location,
        tags=clean_tags,
        status={},
        created_at=now,
    )
    screen.groups = groups
    session.add(screen)
    session.flush()
    audit.changed(session, actor, now, "create", screen, after=audit_summary(screen))
    return screen


def update_screen(
    session: Session, actor: Actor, now: datetime, screen_id: int, changes: Mapping[str, Any]
) -> Screen:
    """Apply the given fields (any of EDITABLE); others stay as they are."""
    screen = get_screen(session, actor, screen_id, Role.OPERATOR)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(
            "cannot change these fields", [FieldError(f, "cannot be changed") for f in unknown]
        )
    for key, value in changes.items():
        if value is None:
            raise ValidationFailed(f"{key} cannot be null", [FieldError(key, "must not be null")])
    before = audit_summary(screen)
    if "name" in changes and changes["name"] != screen.name:
        _name_free(session, screen.organisation_id, changes["name"], screen.id)
        screen.name = changes["name"]
    if "timezone" in changes:
        screen.timezone = check_timezone(changes["timezone"])
    if "tags" in changes:
        screen.tags = check_tags(changes["tags"])
    if "group_ids" in changes:
        screen.groups = _groups_for(session, actor, screen.organisation, changes["group_ids"])
    for key in ("width", "height", "location"):
        if key in changes:
            setattr(screen, key, changes[key])
    session.flush()
    audit.changed(session, actor, now, "update", screen, before=before, after=audit_summary(screen))
    return screen


def delete_screen(session: Session, actor: Actor, now: datetime, screen_id: int) -> None:
    """Forget a screen; its player's token stops working, its proof of play stays."""
    screen = get_screen(session, actor, screen_id, Role.OPERATOR)
    audit.changed(session, actor, now, "delete", screen, before=audit_summary(screen))
    session.delete(screen)
    session.flush()


@dataclass(frozen=True)
class ScreenFilter:
    organisation_id: int | None = None
    group_id: int | None = None
    tag: str | None = None
    name: str | None = None
    online: bool | None = None


def has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    """Screens whose JSON tag list holds `tag`, in each backend's own JSON dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return Screen.tags.cast(JSONB).contains([tag])
    values = func.json_each(Screen.tags).table_valued("value")
    return exists(select(1).select_from(values).where(column("value") == tag))


def screens_select(
    session: Session,
    actor: Actor,
    filters: ScreenFilter,
    now: datetime,
    settings: Settings,
) -> Select[Screen]:
    """Screens the actor sees, narrowed by `filters`; the caller sorts and pages."""
    stmt = (
        select(Screen)
        .join(Screen.organisation)
        .where(in_scope(actor))
        .options(selectinload(Screen.groups))
    )
    if filters.organisation_id is not None:
        stmt = stmt.where(Screen.organisation_id == filters.organisation_id)
    if filters.group_id is not None:
        ids = descendant_group_ids(session, [filters.group_id])
        member = select(GroupMember.screen_id).where(GroupMember.group_id.in_(sorted(ids)))
        stmt = stmt.where(Screen.id.in_(member))
    if filters.tag is not None:
        stmt = stmt.where(has_tag(session, filters.tag) if TAG.match(filters.tag) else ~true())
    if filters.name:
        stmt = stmt.where(Screen.name.contains(filters.name, autoescape=True))
    if filters.online is not None:
        cutoff = offline_cutoff(now, settings)
        seen = Screen.last_seen_at.is_not(None) & (Screen.last_seen_at >= cutoff)
        stmt = stmt.where(seen if filters.online else ~seen)
    return stmt
