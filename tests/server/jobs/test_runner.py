"""The job runner: one lease holder at a time, each tick run once, failures recorded."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from server.__main__ import cli
from server.clock import SettableClock
from server.config import Settings, load_settings
from server.db import Database, make_engine
from server.jobs.models import JobRun
from server.jobs.runner import JOBS, Job, Runner, release_lease, run_due, take_lease
from server.reports.models import PlayEvent
from server.screens.models import Pairing

T0 = datetime(2026, 3, 1, 12, 7, tzinfo=UTC)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    overrides = {"instance_path": tmp_path, "database_url": database_url, "secret_key": "x"}
    return load_settings(overrides, environ={})


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = Database(make_engine(settings))
    yield db
    db.engine.dispose()


def test_one_holder_at_a_time_until_the_lease_expires(database: Database) -> None:
    ttl = timedelta(seconds=90)
    assert take_lease(database, "node-a", T0, ttl)
    assert not take_lease(database, "node-b", T0 + timedelta(seconds=30), ttl)
    assert take_lease(database, "node-a", T0 + timedelta(seconds=60), ttl)  # renewed
    assert not take_lease(database, "node-b", T0 + timedelta(seconds=120), ttl)
    assert take_lease(database, "node-b", T0 + timedelta(seconds=151), ttl)  # a's expired
    assert not take_lease(database, "node-a", T0 + timedelta(seconds=160), ttl)
    release_lease(database, "node-b")
    assert take_lease(database, "node-a", T0 + timedelta(seconds=161), ttl)


def test_a_tick_runs_once_whoever_asks(database: Database, settings: Settings) -> None:
    calls: list[datetime] = []

    def count(session, now, settings):  # type: ignore[no-untyped-def]
        calls.append(now)
        return "counted"

    job = Job("count", timedelta(minutes=15), count)
    first = run_due(database, settings, "node-a", T0, [job])
    again = run_due(database, settings, "node-b", T0 + timedelta(minutes=7), [job])
    later = run_due(database, settings, "node-b", T0 + timedelta(minutes=9), [job])
    assert [o.ran for o in first + again + later] == [True, False, True]
    assert first[0].scheduled_for == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert later[0].scheduled_for == datetime(2026, 3, 1, 12, 15, tzinfo=UTC)
    assert len(calls) == 2


def test_two_runners_on_one_tick_commit_it_once(database: Database, settings: Settings) -> None:
    # Both believe they hold the lease (a paused runner woke up after its lease moved on).
    import threading

    inside, go = threading.Event(), threading.Event()
    calls: list[datetime] = []

    def slow(session, now, settings):  # type: ignore[no-untyped-def]
        calls.append(now)
        inside.set()
        assert go.wait(30)
        return "slow"

    job = Job("slow", timedelta(hours=1), slow)
    outcomes: dict[str, list[object]] = {}

    def run(holder: str, at: datetime) -> None:
        outcomes[holder] = list(run_due(database, settings, holder, at, [job]))

    first = threading.Thread(target=run, args=("node-a", T0))
    first.start()
    assert inside.wait(30)
    # node-b finds no committed record yet, so it claims the tick and waits for node-a's claim.
    second = threading.Thread(target=run, args=("node-b", T0 + timedelta(minutes=1)))
    second.start()
    go.set()
    first.join(30)
    second.join(30)
    assert [o.ran for o in outcomes["node-a"]] == [True]  # type: ignore[attr-defined]
    assert [o.ran for o in outcomes["node-b"]] == [False]  # type: ignore[attr-defined]
    assert len(calls) == 1


def test_a_failing_job_is_recorded_and_the_others_still_run(
    database: Database, settings: Settings
) -> None:
    def boom(session, now, settings):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    jobs = [Job("boom", timedelta(hours=1), boom), *JOBS]
    outcomes = run_due(database, settings, "node-a", T0, jobs)
    assert [(o.job, o.ok) for o in outcomes] == [
        ("boom", False),
        ("prune-pairings", True),
        ("prune-plays", True),
        ("prune-rate-counters", True),
        ("alerts-evaluate", True),
        ("alerts-deliver", True),
    ]
    with database.session() as session:
        row = session.scalar(select(JobRun).where(JobRun.job == "boom"))
        assert row is not None and row.outcome == "failed" and "disk on fire" in row.detail


def test_the_runner_only_works_while_it_holds_the_lease(
    database: Database, settings: Settings
) -> None:
    clock = SettableClock(T0)
    a = Runner(database, settings, clock, holder="node-a")
    b = Runner(database, settings, clock, holder="node-b")
    assert {o.job for o in a.step()} == {j.name for j in JOBS}
    assert b.step() == []
    clock.advance(timedelta(minutes=20))
    # New pairing, alert evaluation and delivery ticks; the same day and hour for the rest.
    assert [o.ran for o in a.step()] == [True, False, False, True, True]


def test_pruning_removes_what_is_old_and_keeps_the_rest(
    database: Database, settings: Settings
) -> None:
    with database.session() as session:
        for code, expires in (
            ("OLD234", T0 - timedelta(minutes=1)),
            ("NEW234", T0 + timedelta(minutes=5)),
        ):
            session.add(Pairing(hardware_id=code, code=code, created_at=T0, expires_at=expires))
        for n, age in enumerate((timedelta(days=800), timedelta(days=2))):
            start = T0 - age
            session.add(
                PlayEvent(
                    event_id=f"e{n}",
                    screen_name="s",
                    asset_sha256="0" * 64,
                    start=start,
                    end=start + timedelta(seconds=10),
                    duration_ms=10_000,
                    received_at=start,
                )
            )
    run_due(database, settings, "node-a", T0)
    with database.session() as session:
        assert list(session.scalars(select(Pairing.code))) == ["NEW234"]
        assert list(session.scalars(select(PlayEvent.event_id))) == ["e1"]
        assert session.scalar(select(func.count()).select_from(JobRun)) == len(JOBS)


def test_jobs_once_from_the_command_line(settings: Settings, database: Database) -> None:
    env = {"SIGNAGE_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(
        cli, ["--instance", str(settings.instance_path), "jobs", "once"], env=env, obj={}
    )
    assert result.exit_code == 0, result.output
    assert "prune-pairings" in result.output and "ok" in result.output
    # `once` gives the lease back, so a running `jobs run` is not held off by a cron call.
    assert take_lease(database, "somebody-else", datetime.now(UTC), timedelta(hours=1))
    result = CliRunner().invoke(
        cli, ["--instance", str(settings.instance_path), "jobs", "once"], env=env, obj={}
    )
    assert result.exit_code != 0 and "holds the lease" in result.output


def test_the_runner_process_runs_and_gives_the_lease_back(
    settings: Settings, database: Database
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from server.jobs.models import JobLease

    signage = Path(sys.executable).parent / "signage"
    env = {**os.environ, "SIGNAGE_DATABASE_URL": settings.database_url}
    runner = subprocess.Popen(
        [str(signage), "--instance", str(settings.instance_path), "jobs", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with database.session() as session:
                done = session.scalar(select(func.count()).select_from(JobRun))
            if done == len(JOBS):
                break
            assert runner.poll() is None and time.monotonic() < deadline, runner.stdout
            time.sleep(0.1)
        with database.session() as session:
            assert session.scalar(select(JobLease.holder)) is not None
    finally:
        runner.send_signal(signal.SIGTERM)
        output = runner.communicate(timeout=30)[0].decode()
    assert runner.returncode == 0, output
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(JobLease)) == 0
