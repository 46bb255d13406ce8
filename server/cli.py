"""`signage`: the server-side command; each subcommand builds what it needs, nothing at import."""

from __future__ import annotations

import getpass
import sys

import click
from sqlalchemy import select

from server.campaigns.cli import campaign
from server.campaigns.cli_preview import preview
from server.cli_support import db_session, friendly, settings_from
from server.fleet.cli import screens
from server.media_cli import asset, media


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--instance",
    "instance",
    type=click.Path(file_okay=False),
    envvar="SIGNAGE_INSTANCE_PATH",
    help="Instance folder (database, media, settings). Env: SIGNAGE_INSTANCE_PATH.",
)
@click.pass_context
def cli(ctx: click.Context, instance: str | None) -> None:
    """Signage Scheduler server: run it, migrate it, manage organisations, users and tokens."""
    ctx.ensure_object(dict)["overrides"] = {"instance_path": instance} if instance else None


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.pass_context
@friendly
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the development server (production: gunicorn, see the README)."""
    from server.app import create_app

    app = create_app(settings_from(ctx))
    app.run(host=host, port=port, threaded=True, use_reloader=False)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option(
    "--revision", default="head", show_default=True, help="Alembic revision to migrate to."
)
@click.pass_context
@friendly
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Create or migrate the database schema to the latest revision."""
    from server.db import make_engine
    from server.migrations import upgrade

    engine = make_engine(settings_from(ctx))
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
@click.pass_context
@friendly
def db_downgrade(ctx: click.Context, revision: str) -> None:
    """Take the schema back to REVISION (`base` drops every table), dropping newer data."""
    from server.db import make_engine
    from server.migrations import downgrade

    engine = make_engine(settings_from(ctx))
    try:
        downgrade(engine, revision)
    finally:
        engine.dispose()
    click.echo(f"database at {revision}")


@db.command("current")
@click.pass_context
@friendly
def db_current(ctx: click.Context) -> None:
    """Print the revision the database is at (`none` for an empty database)."""
    from server.db import make_engine
    from server.migrations import current

    engine = make_engine(settings_from(ctx))
    try:
        click.echo(current(engine) or "none")
    finally:
        engine.dispose()


@cli.group()
def org() -> None:
    """Organisations."""


@org.command("create")
@click.argument("name")
@click.option("--parent", help="Name of the parent organisation (none: a new root).")
@click.pass_context
@friendly
def org_create(ctx: click.Context, name: str, parent: str | None) -> None:
    """Create an organisation NAME, optionally under --parent."""
    from server.clock import SystemClock
    from server.orgs import by_name, create_organisation

    with db_session(ctx) as session:
        parent_org = by_name(session, parent) if parent else None
        created = create_organisation(session, name, parent_org, SystemClock().now())
        session.flush()
        click.echo(f"organisation {created.id} {created.name}")


@cli.group()
def user() -> None:
    """Users."""


ROLES = ["viewer", "operator", "approver", "admin"]


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
    from server.accounts import create_user
    from server.clock import SystemClock
    from server.models import Role
    from server.orgs import by_name

    password = _read_password(password_stdin)
    with db_session(ctx) as session:
        organisation = by_name(session, org_name)
        created = create_user(
            session, email, password, organisation, Role(role), SystemClock().now(), name=name
        )
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


@cli.group()
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
    from datetime import timedelta

    from server.auth import create_api_token
    from server.clock import SystemClock
    from server.errors import NotFound
    from server.models import User

    now = SystemClock().now()
    with db_session(ctx) as session:
        found = session.scalar(select(User).where(User.email == email.strip().lower()))
        if found is None:
            raise NotFound(f"no user {email!r}")
        _, clear = create_api_token(
            session, found, name, now, now + timedelta(days=days) if days else None
        )
    click.echo(clear)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option("--no-serve", is_flag=True, help="Set up the demo data and exit.")
@click.option("--no-player", is_flag=True, help="Do not start the demo's screen player.")
@click.pass_context
@friendly
def demo(ctx: click.Context, host: str, port: int, no_serve: bool, no_player: bool) -> None:
    """Set up the demo (organisations, screens, the Cybersecurity Week campaign moved onto
    this week) in the instance folder, then run the server and a player beside it."""
    from server.demo import run_demo

    run_demo(
        settings_from(ctx),
        host=host,
        port=port,
        serve=not no_serve,
        player=not no_player,
        echo=click.echo,
    )


@cli.group()
def jobs() -> None:
    """Timed server work (pruning expired pairings, old plays): one runner per installation."""


@jobs.command("run")
@click.pass_context
@friendly
def jobs_run(ctx: click.Context) -> None:
    """Run the job loop until stopped; safe to start on several nodes (one holds the lease)."""
    import signal
    import threading

    from server.clock import from_settings
    from server.db import Database, make_engine
    from server.jobs import Runner

    settings = settings_from(ctx)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runner = Runner(Database(make_engine(settings)), settings, from_settings(settings))
    click.echo(f"job runner {runner.holder}: checking every {runner.check.total_seconds():.0f}s")
    runner.run_forever(stop)


@jobs.command("once")
@click.pass_context
@friendly
def jobs_once(ctx: click.Context) -> None:
    """Take the lease and run every job's current tick once (for cron, or by hand)."""
    from server.clock import from_settings
    from server.db import Database, make_engine
    from server.jobs import Runner, release_lease

    settings = settings_from(ctx)
    database = Database(make_engine(settings))
    runner = Runner(database, settings, from_settings(settings))
    try:
        outcomes = runner.step()
        if outcomes:
            release_lease(database, runner.holder)
    finally:
        database.engine.dispose()
    if not outcomes:
        raise click.ClickException("another job runner holds the lease; nothing was run")
    for o in outcomes:
        state = ("ok" if o.ok else "FAILED") if o.ran else "skipped"
        click.echo(f"{o.job} {o.scheduled_for.isoformat()} {state}: {o.detail}")
    if any(not o.ok for o in outcomes):
        sys.exit(1)


# Command groups that live with their domain.
cli.add_command(campaign)
cli.add_command(preview)
cli.add_command(asset)
cli.add_command(media)
cli.add_command(screens)


def main() -> None:
    cli(obj={})
