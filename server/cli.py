"""What every `signage` subcommand shares: one-line errors, settings, the clock and sessions.

Each domain's command group (`server/<domain>/cli.py`) imports from here and the root
command (`server/__main__.py`) gathers the groups, so nothing here imports a domain.
Reading settings creates nothing (see `server.config.with_secret`): `signage campaign check`
on a fresh checkout writes no file.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from server import clock, faults
from server.config import Settings, load_settings
from server.db import Database, make_engine
from server.errors import ConfigError, KnownError

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
        except KnownError as exc:
            fields = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors)
            click.echo(f"signage: {exc.detail}" + (f" ({fields})" if fields else ""), err=True)
            sys.exit(1)
        except (OperationalError, ProgrammingError) as exc:
            reason = (str(exc.orig or exc).strip().splitlines() or ["?"])[0]
            click.echo(
                f"signage: database: {reason} (if the schema is missing: `signage db upgrade`)",
                err=True,
            )
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


def now(ctx: click.Context) -> datetime:
    """The instant by the configured clock: the same clock the server follows."""
    return clock.from_settings(settings_from(ctx)).now()


def _database_exists(settings: Settings) -> bool:
    if not settings.is_sqlite:
        return True
    database = make_url(settings.database_url).database
    if not database:
        return False
    return database == ":memory:" or Path(database).is_file()


def _require_database(settings: Settings) -> None:
    if not _database_exists(settings):
        raise click.ClickException(
            f"no database in {settings.instance_path}: run `signage db upgrade` first"
        )


@contextmanager
def reading(ctx: click.Context, *, required: bool = True) -> Iterator[Session | None]:
    """A session that is always rolled back; None when there is no database yet."""
    settings = settings_from(ctx)
    if not _database_exists(settings):
        if required:
            _require_database(settings)
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
    settings = settings_from(ctx)
    _require_database(settings)
    database = Database(make_engine(settings))
    try:
        with database.session() as session:
            yield session
    finally:
        database.engine.dispose()


JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")
AS = click.option(
    "--as",
    "as_email",
    help="Act as this user (their roles; the audit log names them). Default: full rights.",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON")


def emit(as_json: bool, payload: Any, lines: Iterable[str] = ()) -> None:
    """Print `payload` as JSON with --json, else the human `lines`."""
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=_jsonable))
        return
    for line in lines:
        click.echo(line)


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide and fullwidth characters (Chinese) take two."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """Rows as columns aligned by display width (so Chinese names line up), blanks for None."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  ".join(c + " " * (w - display_width(c)) for c, w in zip(row, widths, strict=True))
        .rstrip()
        for row in cells
    ]
