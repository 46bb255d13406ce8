"""Groups of screens: a tree per organisation branch, and which screens belong to each.

A group of organisation O may sit inside a group of O or of one of O's ancestors, and may hold
screens of O's subtree; whoever operates a screen may put it in any group they can read (a
school joins its screens to the province's `campus` group). A screen in a group counts as a
member of every group above it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from server.accounts.models import Organisation, Role
from server.auth import audit
from server.auth.actors import Actor
from server.auth.scope import in_scope, readable_org_clause, reads
from server.campaigns import versions as content_version
from server.db import MAX_ID
from server.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from server.screens.models import Group, GroupMember, Screen

EDITABLE = ("name", "parent_id")
MAX_DEPTH = 50


def get_group(session: Session, actor: Actor, group_id: int, role: Role = Role.VIEWER) -> Group:
    """A group the actor can read (its subtrees' and their ancestors'); `role` for changes."""
    group = session.get(Group, group_id) if 0 < group_id <= MAX_ID else None
    if group is None or not reads(actor, group.organisation):
        raise NotFound(f"no group {group_id}")
    if role is not Role.VIEWER:
        if not actor.sees(group.organisation.path):
            raise Forbidden("groups of an ancestor organisation are read-only here")
        actor.require(group.organisation.path, role)
    return group


def readable_groups(session: Session, actor: Actor) -> list[Group]:
    """Every group of the organisations the actor reads, by name (for pickers)."""
    stmt = (
        select(Group)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(readable_org_clause(actor))
        .order_by(Group.name)
    )
    return list(session.scalars(stmt))


def descendant_group_ids(session: Session, group_ids: Iterable[int]) -> set[int]:
    """The given groups and every group nested below them."""
    found = {g for g in group_ids if 0 < g <= MAX_ID}
    frontier = set(found)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        children = set(session.scalars(select(Group.id).where(Group.parent_id.in_(frontier))))
        frontier = children - found
        found |= frontier
    return found


def ancestor_chain(session: Session, group: Group) -> list[int]:
    """Ids from `group` up to its root (bounded, so a corrupt loop cannot hang a request)."""
    chain = [group.id]
    parent_id = group.parent_id
    while parent_id is not None and len(chain) < MAX_DEPTH + 1 and parent_id not in chain:
        chain.append(parent_id)
        parent_id = session.scalar(select(Group.parent_id).where(Group.id == parent_id))
    return chain


def _parent(
    session: Session, actor: Actor, org: Organisation, parent_id: int, group_id: int | None
) -> Group:
    parent = session.get(Group, parent_id) if 0 < parent_id <= MAX_ID else None
    if parent is None or not reads(actor, parent.organisation):
        raise ValidationFailed(f"no group {parent_id}", [FieldError("parent_id", "no such group")])
    if not org.path.startswith(parent.organisation.path):
        raise ValidationFailed(
            "a group nests only in a group of its own organisation or an ancestor's",
            [FieldError("parent_id", "group of another organisation branch")],
        )
    if group_id is not None and group_id in ancestor_chain(session, parent):
        raise ValidationFailed(
            f"group {parent_id} is inside group {group_id}; nesting would make a cycle",
            [FieldError("parent_id", "would make a cycle")],
        )
    if len(ancestor_chain(session, parent)) >= MAX_DEPTH:
        raise ValidationFailed(
            f"groups nest at most {MAX_DEPTH} deep", [FieldError("parent_id", "too deep")]
        )
    return parent


def _name_free(session: Session, org_id: int, name: str, group_id: int | None = None) -> None:
    stmt = select(Group.id).where(Group.organisation_id == org_id, Group.name == name)
    if group_id is not None:
        stmt = stmt.where(Group.id != group_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a group named {name!r} exists here", [FieldError("name", "already taken")])


def audit_summary(group: Group) -> dict[str, Any]:
    return {"name": group.name, "parent_id": group.parent_id}


def create_group(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    organisation_id: int,
    name: str,
    parent_id: int | None = None,
) -> Group:
    org = session.get(Organisation, organisation_id) if 0 < organisation_id <= MAX_ID else None
    if org is None or not actor.sees(org.path):
        raise NotFound(f"no organisation {organisation_id}")
    actor.require(org.path, Role.OPERATOR)
    parent = _parent(session, actor, org, parent_id, None) if parent_id is not None else None
    _name_free(session, org.id, name)
    group = Group(
        organisation_id=org.id,
        organisation=org,
        name=name,
        parent_id=parent.id if parent else None,
        created_at=now,
    )
    session.add(group)
    session.flush()
    audit.changed(session, actor, now, "create", group, after=audit_summary(group))
    return group


def update_group(
    session: Session, actor: Actor, now: datetime, group_id: int, changes: Mapping[str, Any]
) -> Group:
    """Rename and/or move a group (`parent_id: None` takes it out of its parent)."""
    group = get_group(session, actor, group_id, Role.OPERATOR)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(
            "cannot change these fields", [FieldError(f, "cannot be changed") for f in unknown]
        )
    before = audit_summary(group)
    if "name" in changes:
        if changes["name"] is None:
            raise ValidationFailed("a group needs a name", [FieldError("name", "must not be null")])
        if changes["name"] != group.name:
            _name_free(session, group.organisation_id, changes["name"], group.id)
            group.name = changes["name"]
    if "parent_id" in changes and changes["parent_id"] != group.parent_id:
        new = changes["parent_id"]
        if new is not None:
            _parent(session, actor, group.organisation, new, group.id)
        group.parent_id = new
        # Screens below this group now count for other groups: targeting changed.
        content_version.bump(session, action="groups", now=now)
    session.flush()
    audit.changed(session, actor, now, "update", group, before=before, after=audit_summary(group))
    return group


def delete_group(session: Session, actor: Actor, now: datetime, group_id: int) -> None:
    """Delete a group without sub-groups; its screens simply leave it."""
    group = get_group(session, actor, group_id, Role.OPERATOR)
    if session.scalar(select(Group.id).where(Group.parent_id == group.id).limit(1)) is not None:
        raise Conflict(f"group {group.id} has sub-groups; move or delete them first")
    audit.changed(session, actor, now, "delete", group, before=audit_summary(group))
    session.delete(group)
    session.flush()


def _screen_for(session: Session, actor: Actor, group: Group, screen_id: int) -> Screen:
    """The screen to move in or out of `group`: the actor must operate the screen."""
    screen = session.get(Screen, screen_id) if 0 < screen_id <= MAX_ID else None
    if screen is None or not actor.sees(screen.organisation.path):
        raise NotFound(f"no screen {screen_id}")
    actor.require(screen.organisation.path, Role.OPERATOR)
    if not screen.organisation.path.startswith(group.organisation.path):
        raise ValidationFailed(
            f"screen {screen_id} is not in group {group.id}'s organisation or below it",
            [FieldError("screen_id", "screen of another organisation branch")],
        )
    return screen


def add_screen(
    session: Session, actor: Actor, now: datetime, group_id: int, screen_id: int
) -> bool:
    """Put a screen in a group; False when it already was."""
    group = get_group(session, actor, group_id)
    screen = _screen_for(session, actor, group, screen_id)
    key = {"group_id": group.id, "screen_id": screen.id}
    if session.get(GroupMember, key) is not None:
        return False
    session.add(GroupMember(**key))
    session.flush()
    audit.changed(session, actor, now, "add_screen", group, after={"screen_id": screen.id})
    return True


def remove_screen(
    session: Session, actor: Actor, now: datetime, group_id: int, screen_id: int
) -> bool:
    """Take a screen out of a group; False when it was not in it."""
    group = get_group(session, actor, group_id)
    screen = _screen_for(session, actor, group, screen_id)
    member = session.get(GroupMember, {"group_id": group.id, "screen_id": screen.id})
    if member is None:
        return False
    session.delete(member)
    session.flush()
    audit.changed(session, actor, now, "remove_screen", group, before={"screen_id": screen.id})
    return True


def group_screens_select(session: Session, actor: Actor, group_id: int) -> Select[Screen]:
    """Screens the actor sees in a group or any group nested below it."""
    group = get_group(session, actor, group_id)
    ids = descendant_group_ids(session, [group.id])
    members = select(GroupMember.screen_id).where(GroupMember.group_id.in_(sorted(ids)))
    return (
        select(Screen)
        .join(Screen.organisation)
        .where(Screen.id.in_(members), in_scope(actor))
        .options(selectinload(Screen.groups))
    )


@dataclass(frozen=True)
class GroupFilter:
    organisation_id: int | None = None
    parent_id: int | None = None
    top_level: bool | None = None
    name: str | None = None


def groups_select(actor: Actor, filters: GroupFilter) -> Select[Group]:
    """Groups the actor can read, narrowed by `filters`; the caller sorts and pages."""
    stmt = select(Group).join(Group.organisation).where(readable_org_clause(actor))
    if filters.organisation_id is not None:
        stmt = stmt.where(Group.organisation_id == filters.organisation_id)
    if filters.parent_id is not None:
        stmt = stmt.where(Group.parent_id == filters.parent_id)
    if filters.top_level is not None:
        stmt = stmt.where(
            Group.parent_id.is_(None) if filters.top_level else Group.parent_id.isnot(None)
        )
    if filters.name:
        stmt = stmt.where(Group.name.contains(filters.name, autoescape=True))
    return stmt
