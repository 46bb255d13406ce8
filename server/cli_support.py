"""What every `signage` subcommand shares: friendly errors, settings and a database session.

Domain command groups (campaigns, fleet, media) import from here, and `server.cli` imports
them to register: so nothing here imports `server.cli`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session

from server import faults
from server.config import Settings, load_settings
from server.errors import ConfigError, SignageError

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Turn the project's errors into one line on stderr and a non-zero exit, never a traceback."""

    @wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            click.echo(f"signage: configuration: {exc.detail}", err=True)
            sys.exit(2)
        except SignageError as exc:
            fields = "".join(f"\n  {e.field}: {e.reason}" for e in exc.errors)
            click.echo(f"signage: {exc.detail}{fields}", err=True)
            sys.exit(1)

    return run  # type: ignore[return-value]


def settings_from(ctx: click.Context) -> Settings:
    """Settings, loaded once per invocation (a bad value stops here with its variable's name)."""
    obj = ctx.find_root().ensure_object(dict)
    if obj.get("settings") is None:
        obj["settings"] = load_settings(obj.get("overrides"))
        faults.arm(obj["settings"].faults)
    settings: Settings = obj["settings"]
    return settings


@contextmanager
def db_session(ctx: click.Context) -> Iterator[Session]:
    from server.db import Database, make_engine

    database = Database(make_engine(settings_from(ctx)))
    try:
        with database.session() as session:
            yield session
    finally:
        database.engine.dispose()
