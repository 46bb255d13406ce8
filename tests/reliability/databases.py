"""Databases holding a past release's data: the SQL dumps in fixtures/, loaded into SQLite
directly or copied into PostgreSQL at the dump's revision."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, func, insert, select, text

from server.migrations import upgrade

FIXTURES = Path(__file__).parent / "fixtures"
RELEASE_DUMPS = sorted(FIXTURES.glob("release-*.sql"))


def dump_revision(dump: Path) -> str:
    """The Alembic revision the dump was made at."""
    found = re.search(r"INSERT INTO \"?alembic_version\"? VALUES\('([^']+)'\)", dump.read_text())
    assert found, f"{dump} holds no alembic_version row"
    return found.group(1)


def load_sqlite(dump: Path, path: Path) -> None:
    """A SQLite file at `path` exactly as the release left it."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(dump.read_text(encoding="utf-8"))
    finally:
        conn.close()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (the Alembic bookkeeping left out)."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {
            name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in meta.tables.items()
            if name != "alembic_version"
        }


def copy_into(dump: Path, scratch: Path, target: Engine) -> None:
    """The dump's rows in `target` (PostgreSQL), migrated to the dump's own revision first."""
    source_path = scratch / "release.db"
    load_sqlite(dump, source_path)
    upgrade(target, dump_revision(dump))
    source = create_engine(f"sqlite:///{source_path}")
    try:
        meta_in, meta_out = MetaData(), MetaData()
        meta_in.reflect(source)
        meta_out.reflect(target)
        with source.connect() as src, target.begin() as dst:
            for table in meta_in.sorted_tables:
                if table.name == "alembic_version":
                    continue
                order = list(table.primary_key.columns) or list(table.columns)
                rows = [dict(r._mapping) for r in src.execute(select(table).order_by(*order))]
                if rows:
                    dst.execute(insert(meta_out.tables[table.name]), rows)
            for table in meta_out.sorted_tables:  # ids go on after the copied ones
                if "id" in table.columns and table.c.id.autoincrement is not False:
                    dst.execute(
                        text(
                            "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                            f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                        ),
                        {"t": table.name},
                    )
    finally:
        source.dispose()
