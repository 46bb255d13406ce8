"""`signage`: the server-side command. Each domain's group lives in its folder; this file
gathers them, and holds the two commands about the server itself (`serve`, `db`)."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import OperationalError

from server.accounts.cli import org, token, user
from server.app import create_app
from server.assets.cli import asset, media
from server.auth.cli import audit
from server.campaigns.cli import campaign
from server.campaigns.cli_preview import preview
from server.cli import friendly, settings_from
from server.db import make_engine
from server.demo.cli import demo
from server.errors import ConfigError
from server.jobs.cli import jobs
from server.migrations import current, downgrade, schema_problem, upgrade
from server.reports.cli import report
from server.screens.cli import screen, screens
from server.screens.cli_enrolment import enrolment_token
from server.screens.cli_groups import group


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
    settings = settings_from(ctx)
    engine = make_engine(settings)
    try:
        problem = schema_problem(engine)
    except OperationalError as exc:
        raise ConfigError(f"cannot reach the database: {exc.orig or exc}") from None
    finally:
        engine.dispose()
    if problem is not None:
        click.echo(f"signage: {problem}", err=True)
        sys.exit(1)
    app = create_app(settings)
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
    engine = make_engine(settings_from(ctx))
    try:
        click.echo(current(engine) or "none")
    finally:
        engine.dispose()


for command in (
    org,
    user,
    token,
    group,
    screen,
    enrolment_token,
    campaign,
    preview,
    report,
    audit,
    asset,
    media,
    screens,
    demo,
    jobs,
):
    cli.add_command(command)


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    main()
