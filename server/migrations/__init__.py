"""Alembic migrations, and the helpers that run them from the CLI and the tests.

On SQLite, foreign keys are not enforced while a migration runs: `DROP TABLE` of a table
other rows point at (or that points at itself, as organisations do) fails with them on, and
Alembic's batch mode rebuilds tables by copy-and-drop, which they would cascade through.
The whole migration is one transaction, and `PRAGMA foreign_key_check` must come back
empty before it commits, so the data it leaves still agrees with every foreign key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

from server.errors import SignageError

HERE = Path(__file__).parent


class MigrationFailed(SignageError):
    """A migration would leave rows that break a foreign key; nothing was changed."""


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` on the given engine (SQLite pragmas included)."""
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to `revision` (`base`: no tables), dropping what is newer."""
    _migrate(engine, command.downgrade, revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty (or fully downgraded) one."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _migrate(engine: Engine, step: Callable[[Config, str], Any], revision: str) -> None:
    cfg = alembic_config()
    try:
        _run(engine, cfg, step, revision)
    except CommandError as exc:  # an unknown revision, a downgrade target above the current
        raise MigrationFailed(f"cannot migrate to {revision!r}: {exc}") from None


def _run(engine: Engine, cfg: Config, step: Callable[[Config, str], Any], revision: str) -> None:
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(conn, on=False)  # only outside a transaction does it count
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        tables = sorted({str(row[0]) for row in broken})
                        raise MigrationFailed(
                            f"migrating to {revision} would break foreign keys in "
                            f"{', '.join(tables)}; nothing was changed"
                        )
        finally:
            if sqlite:
                _sqlite_foreign_keys(conn, on=True)


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    # On the DB-API connection itself: through SQLAlchemy the statement would open a
    # transaction first (see server.db), inside which SQLite ignores this pragma.
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


@lru_cache(maxsize=1)
def code_heads() -> frozenset[str]:
    """The revisions this code's migrations end at (read once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def schema_problem(engine: Engine) -> str | None:
    """Why the database cannot serve this code (never migrated, or behind), else None.

    A SQLite file that does not exist is not created by asking."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        if not Path(database).is_file():
            return f"there is no database at {database} yet: run `signage db upgrade`"
    with engine.connect() as conn:
        current = frozenset(MigrationContext.configure(conn).get_current_heads())
    if not current:
        return "the database has no tables yet: run `signage db upgrade`"
    if current != code_heads():
        have, want = ", ".join(sorted(current)), ", ".join(sorted(code_heads()))
        return (
            f"the database is at revision {have}, this code needs {want}:"
            " run `signage db upgrade`"
        )
    return None
