"""What the campaign and preview commands share: side-effect-free settings and sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from server.cli_support import settings_from
from server.config import Settings


def read_settings(ctx: click.Context) -> Settings:
    """The command's settings; reading them creates nothing (see `server.config.with_secret`)."""
    return settings_from(ctx)


def _database_exists(settings: Settings) -> bool:
    if not settings.is_sqlite:
        return True
    database = make_url(settings.database_url).database
    if not database:
        return False
    return database == ":memory:" or Path(database).is_file()


@contextmanager
def reading(ctx: click.Context, *, required: bool = True) -> Iterator[Session | None]:
    """A session that is always rolled back; None when there is no database yet."""
    from server.db import make_engine

    settings = read_settings(ctx)
    if not _database_exists(settings):
        if required:
            raise click.ClickException(
                f"no database in {settings.instance_path}: run `signage db upgrade` first"
            )
        yield None
        return
    engine = make_engine(settings)
    try:
        with Session(engine) as session:
            try:
                yield session
            finally:
                session.rollback()
    finally:
        engine.dispose()


@contextmanager
def writing(ctx: click.Context) -> Iterator[Session]:
    """A session committed on success, rolled back on any error."""
    from server.db import Database, make_engine

    settings = read_settings(ctx)
    if not _database_exists(settings):
        raise click.ClickException(
            f"no database in {settings.instance_path}: run `signage db upgrade` first"
        )
    database = Database(make_engine(settings))
    try:
        with database.session() as session:
            yield session
    finally:
        database.engine.dispose()


def now() -> datetime:
    from server.clock import SystemClock

    return SystemClock().now()


ORG = click.option("--org", "org", help="Organisation the campaign belongs to.")
