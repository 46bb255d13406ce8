"""Shared fixtures: a real database per test (SQLite file, and PostgreSQL when configured),
an app on it with a settable clock, and factories for users with tokens.

PostgreSQL: set SIGNAGE_TEST_DATABASE_URL to a server URL (e.g.
postgresql://postgres@127.0.0.1:5432/test). The run creates its own database on that server,
migrates it once, truncates it after each test and drops it at the end.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session

from server.app import create_app
from server.clock import SettableClock
from server.config import load_settings
from server.db import Base, get_db, make_engine
from server.migrations import upgrade
from tests.s3 import CREDENTIALS, S3Server

PG_ENV = "SIGNAGE_TEST_DATABASE_URL"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def pytest_report_header(config: pytest.Config) -> str:
    server = os.environ.get(PG_ENV)
    if server:
        where = make_url(server).render_as_string(hide_password=True)
        return f"database tests: SQLite files and PostgreSQL (a fresh database on {where})"
    return f"database tests: SQLite files only (set {PG_ENV} to add PostgreSQL)"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many database tests ran on each backend, so a CI log shows both did."""
    counts = {"sqlite": 0, "postgres": 0}
    for report in terminalreporter.stats.get("passed", []):
        for backend in counts:
            if f"[{backend}" in report.nodeid or f"-{backend}]" in report.nodeid:
                counts[backend] += 1
    if any(counts.values()):
        terminalreporter.write_line(
            f"database tests passed: {counts['sqlite']} on SQLite, "
            f"{counts['postgres']} on PostgreSQL"
        )


def _settings_for(url: str, instance: Path):  # type: ignore[no-untyped-def]
    return load_settings(
        {"instance_path": instance, "database_url": url, "secret_key": "test-secret"}, environ={}
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (faster than migrating each time)."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "signage.db"
    engine = make_engine(_settings_for(f"sqlite:///{path}", folder))
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    server_url = os.environ.get(PG_ENV)
    if not server_url:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
        )
    import psycopg

    admin = make_url(server_url)
    name = f"signage_test_{os.getpid()}_{secrets.token_hex(3)}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(_settings_for(url, Path("/nonexistent")))
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def truncate_all(engine: Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "signage.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_database")
    yield url
    engine = make_engine(_settings_for(url, tmp_path))
    truncate_all(engine)
    engine.dispose()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(T0)


@pytest.fixture
def media_settings() -> dict[str, object]:
    """Settings of the app's media store; a test module overrides this to run on S3."""
    return {}


@pytest.fixture
def app(
    database_url: str, tmp_path: Path, clock: SettableClock, media_settings: dict[str, object]
) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    settings = _settings_for(database_url, instance)
    if media_settings:
        settings = settings.model_validate({**settings.model_dump(), **media_settings})
    app = create_app(settings, clock_=clock)
    app.config["TESTING"] = True
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session on the app's database for arranging and checking state."""
    with get_db(app).sessions() as s:
        yield s


@pytest.fixture
def world(app: Flask, session: Session, clock: SettableClock):  # type: ignore[no-untyped-def]
    """Two organisation trees with a user of each role, each with an API token."""
    from tests.factories import World

    return World.build(session, clock.now())


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-protocol server (moto's, in its own process) for the whole run. The
    credentials it accepts are put in the environment, where boto3 finds them in this
    process and in the server processes the tests start."""
    saved = {key: os.environ.get(key) for key in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log").start()
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
