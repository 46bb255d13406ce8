"""The migrations build the schema the models describe, on every database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from server.config import load_settings
from server.db import Base, make_engine


def test_migrations_match_models(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(
        {"instance_path": tmp_path, "database_url": database_url, "secret_key": "x"}, environ={}
    )
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert diff == []
    assert set(Base.metadata.tables) <= tables
