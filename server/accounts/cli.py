"""`signage org|user|token …`: organisations (create, list), users (create, list), API tokens."""

from __future__ import annotations

import getpass
import sys
from datetime import timedelta
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role, User
from server.accounts.organisations import by_name, create_organisation, default_playlist_id
from server.accounts.users import UserFilter, add_user, users_select, visible_memberships
from server.auth.actors import Actor, actor_by_email, create_api_token
from server.auth.scope import in_scope
from server.cli import AS, JSON, emit, friendly, now, reading, table, writing
from server.errors import NotFound

ROLES = [r.value for r in Role]


@click.group()
def org() -> None:
    """Organisations."""


def org_json(session: Session, found: Organisation) -> dict[str, Any]:
    """An organisation as the REST resource shows it (`OrganisationOut`)."""
    return {
        "id": found.id,
        "name": found.name,
        "parent_id": found.parent_id,
        "path": found.path,
        "timezone": found.timezone,
        "default_playlist_id": default_playlist_id(session, found.id),
        "created_at": found.created_at,
    }


@org.command("create")
@click.argument("name")
@click.option("--parent", help="Name of the parent organisation (none: a new root).")
@click.option("--timezone", help="IANA zone new screens start in (default: the parent's, or UTC).")
@JSON
@click.pass_context
@friendly
def org_create(
    ctx: click.Context, name: str, parent: str | None, timezone: str | None, as_json: bool
) -> None:
    """Create an organisation NAME, optionally under --parent."""
    with writing(ctx) as session:
        parent_org = by_name(session, parent) if parent else None
        created = create_organisation(session, name, parent_org, now(ctx), timezone=timezone)
        session.flush()
        payload = org_json(session, created)
    emit(as_json, payload, [f"organisation {payload['id']} {payload['name']}"])


@org.command("list")
@AS
@JSON
@click.pass_context
@friendly
def org_list(ctx: click.Context, as_email: str | None, as_json: bool) -> None:
    """The organisations you see, as a tree."""
    with reading(ctx) as session:
        assert session is not None
        actor = actor_by_email(session, as_email)
        found = list(
            session.scalars(select(Organisation).where(in_scope(actor)).order_by(Organisation.path))
        )
        payload = [org_json(session, o) for o in found]
    depth = {o["id"]: o["path"].count("/") - 2 for o in payload}
    lines = table(
        ("ID", "NAME", "ZONE", "PARENT"),
        (
            ("  " * depth[o["id"]] + str(o["id"]), o["name"], o["timezone"], o["parent_id"])
            for o in payload
        ),
    )
    emit(as_json, payload, lines)


@click.group()
def user() -> None:
    """Users."""


@user.command("create")
@click.argument("email")
@click.option("--org", "org_name", required=True, help="Organisation the user belongs to.")
@click.option(
    "--role", type=click.Choice(ROLES), required=True, help="Role in that organisation's subtree."
)
@click.option("--name", default="", help="Display name.")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (for scripts)."
)
@click.pass_context
@friendly
def user_create(
    ctx: click.Context, email: str, org_name: str, role: str, name: str, password_stdin: bool
) -> None:
    """Create a user EMAIL with a ROLE in an organisation; the password is prompted for."""
    password = _read_password(password_stdin)
    with writing(ctx) as session:
        organisation = by_name(session, org_name)
        created = add_user(session, email, password, organisation, Role(role), now(ctx), name=name)
        session.flush()
        click.echo(f"user {created.id} {created.email} ({role} in {organisation.name})")


def _read_password(from_stdin: bool) -> str:
    if from_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise click.ClickException("the passwords differ")
    return password


def user_json(actor: Actor, found: User) -> dict[str, Any]:
    """A user as the REST resource shows it (`UserOut`): memberships inside your subtrees."""
    return {
        "id": found.id,
        "email": found.email,
        "name": found.name,
        "active": found.active,
        "created_at": found.created_at,
        "memberships": [
            {
                "organisation_id": m.organisation_id,
                "organisation": m.organisation.name,
                "role": m.role,
            }
            for m in visible_memberships(actor, found)
        ],
    }


@user.command("list")
@click.option("--org", "org_name", help="Only members of this organisation.")
@click.option("--search", "q", help="Only users whose email or name contains this.")
@AS
@JSON
@click.pass_context
@friendly
def user_list(
    ctx: click.Context, org_name: str | None, q: str | None, as_email: str | None, as_json: bool
) -> None:
    """The users you administer, with their roles."""
    with reading(ctx) as session:
        assert session is not None
        actor = actor_by_email(session, as_email)
        org_id = by_name(session, org_name).id if org_name else None
        filters = UserFilter(organisation_id=org_id, q=q)
        found = list(session.scalars(users_select(actor, filters).order_by(User.email)))
        payload = [user_json(actor, u) for u in found]
    lines = table(
        ("ID", "EMAIL", "NAME", "ACTIVE", "ROLES"),
        (
            (
                u["id"],
                u["email"],
                u["name"],
                "yes" if u["active"] else "no",
                ", ".join(f"{m['role'].value} in {m['organisation']}" for m in u["memberships"]),
            )
            for u in payload
        ),
    )
    emit(as_json, payload, lines)


@click.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--user", "email", required=True, help="Email of the user the token acts as.")
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
@click.option(
    "--days", type=click.IntRange(1, 3650), help="Expire after this many days (default: never)."
)
@click.pass_context
@friendly
def token_create(ctx: click.Context, email: str, name: str, days: int | None) -> None:
    """Create an API token; prints only the token, for scripts."""
    at = now(ctx)
    with writing(ctx) as session:
        found = session.scalar(select(User).where(User.email == email.strip().lower()))
        if found is None:
            raise NotFound(f"no user {email!r}")
        _, clear = create_api_token(
            session, found, name, at, at + timedelta(days=days) if days else None
        )
    click.echo(clear)
