"""Alembic migrations, and the helpers that run them from the CLI and the tests."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

HERE = Path(__file__).parent


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` on the given engine (SQLite pragmas included)."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


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
