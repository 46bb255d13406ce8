"""Transactions on SQLite: those that may write queue for the write lock up front, so
concurrent read-then-write transactions wait for each other instead of failing; a
database that stays busy is a 503 that says so, with Retry-After."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from server.db import Database, get_db, get_session, is_busy, make_engine
from server.jobs.models import JobRun
from tests.conftest import _settings_for

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def database(database_url: str, tmp_path: Path) -> Iterator[Database]:
    db = Database(make_engine(_settings_for(database_url, tmp_path)))
    yield db
    db.engine.dispose()


def _sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        pytest.skip("SQLite's write lock")
    return url.removeprefix("sqlite:///")


def _write_lock_free(path: str) -> bool:
    """Whether another connection could take SQLite's write lock right now."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_a_request_that_changes_data_holds_the_write_lock_from_its_first_read(
    app: Flask, database_url: str
) -> None:
    path = _sqlite_path(database_url)
    for method, locks in (("GET", False), ("HEAD", False), ("POST", True), ("DELETE", True)):
        with app.test_request_context("/", method=method):
            get_session().execute(select(func.count()).select_from(JobRun))
            assert _write_lock_free(path) is not locks, method
        assert _write_lock_free(path)  # the request's session is closed on teardown
    with get_db(app).session() as session:  # CLI and jobs write
        session.execute(select(func.count()).select_from(JobRun))
        assert not _write_lock_free(path)
    with get_db(app).session(write=False) as session:
        session.execute(select(func.count()).select_from(JobRun))
        assert _write_lock_free(path)


def test_concurrent_read_then_write_transactions_wait_for_each_other(
    database: Database,
) -> None:
    # Each transaction reads, then writes. Begun deferred on SQLite, most of these would fail
    # with "database is locked": another thread committed after their read.
    threads, each = 8, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        start.wait()
        for k in range(each):
            try:
                with database.session() as session:
                    seen = session.scalar(select(func.count()).select_from(JobRun))
                    session.add(
                        JobRun(
                            job=f"t{n}-{k}",
                            scheduled_for=T0,
                            holder=f"seen {seen}",
                            started_at=T0,
                            outcome="ok",
                        )
                    )
            except OperationalError as exc:
                errors.append(exc)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert errors == []
    with database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(JobRun)) == threads * each
        if database.engine.dialect.name == "sqlite":
            # Serialised: each transaction saw every one that committed before it.
            seen = sorted(int(h.split()[1]) for h in session.scalars(select(JobRun.holder)))
            assert seen == list(range(threads * each))


def _busy_error(database_url: str, database: Database) -> OperationalError:
    """A real contention error from the database: the lock another connection holds."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(_sqlite_path(database_url), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            impatient = sqlite3.connect(_sqlite_path(database_url), timeout=0)
            try:
                impatient.execute("DELETE FROM job_runs")
            except sqlite3.OperationalError as exc:
                return OperationalError("DELETE FROM job_runs", {}, exc)
            finally:
                impatient.close()
        finally:
            holder.close()
    with database.engine.connect() as holder, database.engine.connect() as impatient:
        holder.exec_driver_sql("LOCK TABLE job_runs IN ACCESS EXCLUSIVE MODE")
        impatient.exec_driver_sql("SET lock_timeout = '10ms'")
        try:
            impatient.exec_driver_sql("DELETE FROM job_runs")
        except OperationalError as exc:
            return exc
    raise AssertionError("the locked table was written")


def test_a_busy_database_is_a_503_that_says_so_with_retry_after(
    app: Flask, database_url: str, database: Database
) -> None:
    exc = _busy_error(database_url, database)
    assert is_busy(exc)
    with app.test_request_context("/api/v1/player/hello", method="POST"):
        response = app.handle_user_exception(exc)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json is not None and "busy" in response.json["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 5


def test_a_database_that_is_down_is_a_503_that_says_unavailable(app: Flask, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "signage.db"
    try:
        sqlite3.connect(f"file:{missing}?mode=rw", uri=True)
    except sqlite3.OperationalError as orig:
        exc = OperationalError("connect", {}, orig)
    assert not is_busy(exc)
    with app.test_request_context("/api/v1/player/hello", method="POST"):
        response = app.handle_user_exception(exc)
    assert response.status_code == 503
    assert response.json is not None and response.json["detail"] == "the database is unavailable"
    assert response.headers["Retry-After"] == "5"
