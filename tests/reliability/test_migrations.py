"""Migrations with data in the tables: down to base and up again, and every past release's
database (tests/reliability/fixtures, one dump per release) up to the newest schema.

The commands are the real `signage db` ones (click's runner, in this process), against a
real SQLite file and a real PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import Engine, inspect

from server.__main__ import cli
from server.config import load_settings
from server.db import Base, make_engine
from server.migrations import alembic_config
from tests.reliability.databases import RELEASE_DUMPS, copy_into, load_sqlite, row_counts

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def signage_db(url: str, instance: Path, *args: str) -> Result:
    env = {"SIGNAGE_DATABASE_URL": url, "SIGNAGE_INSTANCE_PATH": str(instance)}
    return CliRunner().invoke(cli, ["db", *args], env=env)


def engine_for(url: str, instance: Path) -> Engine:
    return make_engine(load_settings({"instance_path": instance, "database_url": url}, environ={}))


def schema_matches_models(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def release_database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Path], str]:
    """Loads a release dump into a fresh database of each kind; its URL."""

    def load(dump: Path) -> str:
        if request.param == "sqlite":
            path = tmp_path / "signage.db"
            load_sqlite(dump, path)
            return f"sqlite:///{path}"
        url: str = request.getfixturevalue("fresh_pg_database")()
        engine = engine_for(url, tmp_path)
        try:
            copy_into(dump, tmp_path, engine)
        finally:
            engine.dispose()
        return url

    return load


def test_there_is_a_release_fixture() -> None:
    assert RELEASE_DUMPS, "tests/reliability/fixtures holds no release-*.sql"


@pytest.mark.parametrize("dump", RELEASE_DUMPS, ids=lambda p: p.stem)
def test_a_release_database_upgrades_to_head_keeping_every_row(
    release_database: Callable[[Path], str], dump: Path, tmp_path: Path
) -> None:
    url = release_database(dump)
    engine = engine_for(url, tmp_path)
    try:
        before = row_counts(engine)
        assert before and all(before.values()), f"the fixture has empty tables: {before}"
        done = signage_db(url, tmp_path, "upgrade")
        assert done.exit_code == 0, done.stderr
        assert signage_db(url, tmp_path, "current").stdout.strip() == HEAD
        after = row_counts(engine)
        assert {t: n for t, n in after.items() if t in before} == before
        assert schema_matches_models(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_upgrade_again_with_data(
    release_database: Callable[[Path], str], tmp_path: Path
) -> None:
    url = release_database(RELEASE_DUMPS[-1])
    engine = engine_for(url, tmp_path)
    try:
        release = row_counts(engine)
        assert signage_db(url, tmp_path, "upgrade").exit_code == 0
        assert all(n for t, n in row_counts(engine).items() if t in release)

        down = signage_db(url, tmp_path, "downgrade", "base")
        assert down.exit_code == 0, down.stderr
        assert signage_db(url, tmp_path, "current").stdout.strip() == "none"
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        up = signage_db(url, tmp_path, "upgrade")
        assert up.exit_code == 0, up.stderr
        assert signage_db(url, tmp_path, "current").stdout.strip() == HEAD
        assert schema_matches_models(engine) == []
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_downgrade_to_an_unknown_revision_is_one_line_and_changes_nothing(
    release_database: Callable[[Path], str], tmp_path: Path
) -> None:
    url = release_database(RELEASE_DUMPS[-1])
    engine = engine_for(url, tmp_path)
    try:
        before = row_counts(engine)
        done = signage_db(url, tmp_path, "downgrade", "nosuchrevision")
        assert done.exit_code != 0
        assert done.stderr.startswith("signage: ") and done.exception is not None
        assert isinstance(done.exception, SystemExit), done.exception  # not a traceback
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert row_counts(engine) == before
    finally:
        engine.dispose()
