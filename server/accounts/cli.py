"""`signage org|user|token create`: the first organisation, its admin, and API tokens."""

from __future__ import annotations

import getpass
import sys
from datetime import timedelta

import click
from sqlalchemy import select

from server.accounts.models import Role, User
from server.accounts.organisations import by_name, create_organisation
from server.accounts.users import add_user
from server.auth.actors import create_api_token
from server.cli import friendly, now, writing
from server.errors import NotFound

ROLES = [r.value for r in Role]


@click.group()
def org() -> None:
    """Organisations."""


@org.command("create")
@click.argument("name")
@click.option("--parent", help="Name of the parent organisation (none: a new root).")
@click.pass_context
@friendly
def org_create(ctx: click.Context, name: str, parent: str | None) -> None:
    """Create an organisation NAME, optionally under --parent."""
    with writing(ctx) as session:
        parent_org = by_name(session, parent) if parent else None
        created = create_organisation(session, name, parent_org, now(ctx))
        session.flush()
        click.echo(f"organisation {created.id} {created.name}")


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
