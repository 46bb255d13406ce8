"""What the campaign and preview commands share: side-effect-free settings and sessions."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import make_url
from sqlalchemy.orm import Session

from server.config import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """`server.cli.friendly`, looked up when the command runs.

    `server.cli` imports these commands to register them; importing it back at module level
    would make an import cycle.
    """

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        from server.cli import friendly as project_friendly

        return project_friendly(fn)(*args, **kwargs)

    return run  # type: ignore[return-value]


def read_settings(ctx: click.Context) -> Settings:
    """Settings without side effects: the command line never needs the cookie secret, so
    none is generated into (and no folder is created for) the instance."""
    obj = ctx.find_root().ensure_object(dict)
    if obj.get("campaign_settings") is None:
        overrides = dict(obj.get("overrides") or {})
        if not os.environ.get("SIGNAGE_SECRET_KEY"):
            overrides.setdefault("secret_key", "not-used-by-the-command-line")
        obj["campaign_settings"] = load_settings(overrides)
    settings: Settings = obj["campaign_settings"]
    return settings


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
