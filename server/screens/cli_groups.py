"""`signage group …`: groups of screens (list, create, rename, move, delete), through the
same services as the REST views."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.accounts.organisations import by_name
from server.auth.actors import Actor, actor_by_email
from server.cli import AS, JSON, emit, friendly, now, reading, table, writing
from server.errors import NotFound
from server.screens import groups as service
from server.screens.models import Group


def group_json(group: Group) -> dict[str, Any]:
    """A group as the REST resource shows it (`GroupOut`), with its organisation's name."""
    return {
        "id": group.id,
        "name": group.name,
        "organisation_id": group.organisation_id,
        "organisation": group.organisation.name,
        "parent_id": group.parent_id,
        "created_at": group.created_at,
    }


def find_group(session: Session, actor: Actor, ref: str, org_name: str | None = None) -> Group:
    """A group by id (digits) or by name (unique, or within `org_name`)."""
    if ref.isdigit():
        return service.get_group(session, actor, int(ref))
    filters = service.GroupFilter(
        organisation_id=by_name(session, org_name).id if org_name else None
    )
    found = [g for g in session.scalars(service.groups_select(actor, filters)) if g.name == ref]
    if not found:
        raise NotFound(f"no group {ref!r}" + (f" in {org_name!r}" if org_name else ""))
    if len(found) > 1:
        raise NotFound(f"several groups are called {ref!r}: give --org or the group id")
    return found[0]


def _line(group: Group) -> str:
    parent = f", inside group {group.parent_id}" if group.parent_id else ""
    return f"group {group.id} {group.name} ({group.organisation.name}{parent})"


ORG = click.option("--org", "org_name", help="Organisation of the group (when names clash).")


@click.group()
def group() -> None:
    """Groups of screens: list, create, rename, move, delete."""


@group.command("list")
@click.option("--org", "org_name", help="Only groups of this organisation.")
@AS
@JSON
@click.pass_context
@friendly
def group_list(
    ctx: click.Context, org_name: str | None, as_email: str | None, as_json: bool
) -> None:
    """Groups you can read (your organisations' and their ancestors')."""
    with reading(ctx) as session:
        assert session is not None
        actor = actor_by_email(session, as_email)
        filters = service.GroupFilter(
            organisation_id=by_name(session, org_name).id if org_name else None
        )
        stmt = service.groups_select(actor, filters).order_by(Organisation.path, Group.name)
        found = list(session.scalars(stmt))
        payload = [group_json(g) for g in found]
        rows = [(g.id, g.name, g.organisation.name, g.parent_id) for g in found]
    emit(as_json, payload, table(("ID", "NAME", "ORGANISATION", "PARENT"), rows))


@group.command("create")
@click.argument("name")
@click.option("--org", "org_name", required=True, help="Organisation the group belongs to.")
@click.option("--parent", help="Group (name or id) to nest it in.")
@AS
@JSON
@click.pass_context
@friendly
def group_create(
    ctx: click.Context,
    name: str,
    org_name: str,
    parent: str | None,
    as_email: str | None,
    as_json: bool,
) -> None:
    """Create a group NAME in an organisation, optionally inside another group."""
    with writing(ctx) as session:
        actor = actor_by_email(session, as_email)
        parent_id = find_group(session, actor, parent).id if parent else None
        created = service.create_group(
            session,
            actor,
            now(ctx),
            organisation_id=by_name(session, org_name).id,
            name=name,
            parent_id=parent_id,
        )
        payload, line = group_json(created), _line(created)
    emit(as_json, payload, [line])


@group.command("rename")
@click.argument("ref")
@click.argument("new_name")
@ORG
@AS
@JSON
@click.pass_context
@friendly
def group_rename(
    ctx: click.Context,
    ref: str,
    new_name: str,
    org_name: str | None,
    as_email: str | None,
    as_json: bool,
) -> None:
    """Rename group REF (name or id) to NEW_NAME."""
    with writing(ctx) as session:
        actor = actor_by_email(session, as_email)
        found = find_group(session, actor, ref, org_name)
        renamed = service.update_group(session, actor, now(ctx), found.id, {"name": new_name})
        payload, line = group_json(renamed), _line(renamed)
    emit(as_json, payload, [line])


@group.command("move")
@click.argument("ref")
@click.option("--into", "into", help="The group (name or id) to move it into.")
@click.option("--top", is_flag=True, help="Take it out of its parent.")
@ORG
@AS
@JSON
@click.pass_context
@friendly
def group_move(
    ctx: click.Context,
    ref: str,
    into: str | None,
    top: bool,
    org_name: str | None,
    as_email: str | None,
    as_json: bool,
) -> None:
    """Move group REF into another group (--into) or to the top level (--top)."""
    if (into is None) == (not top):
        raise click.UsageError("give --into GROUP or --top")
    with writing(ctx) as session:
        actor = actor_by_email(session, as_email)
        found = find_group(session, actor, ref, org_name)
        parent_id = find_group(session, actor, into).id if into else None
        moved = service.update_group(session, actor, now(ctx), found.id, {"parent_id": parent_id})
        payload, line = group_json(moved), _line(moved)
    emit(as_json, payload, [line])


@group.command("delete")
@click.argument("ref")
@ORG
@AS
@JSON
@click.pass_context
@friendly
def group_delete(
    ctx: click.Context, ref: str, org_name: str | None, as_email: str | None, as_json: bool
) -> None:
    """Delete group REF (it must have no sub-groups; its screens simply leave it)."""
    with writing(ctx) as session:
        actor = actor_by_email(session, as_email)
        found = find_group(session, actor, ref, org_name)
        payload = {**group_json(found), "deleted": True}
        service.delete_group(session, actor, now(ctx), found.id)
    emit(as_json, payload, [f"deleted group {payload['id']} {payload['name']}"])
