"""Two real `signage jobs run` processes race for the lease. The holder is SIGKILLed in the
middle of a tick; the other takes over once the lease has expired on the runners' clock,
and runs that tick itself. Judged from the job-run rows: every tick ran exactly once.

Time is a FileClock the test moves; "mid-tick" is the test-only `gate` job
(`job_gate_dir`), which stops inside its tick until the test lets it go.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from server.clock import write_clock_file
from server.config import env_name, load_settings
from server.db import Database, make_engine
from server.jobs.models import JobLease, JobRun
from server.jobs.runner import EPOCH, GATE_EVERY, JOBS
from tests.integration.conftest import VENV_BIN

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 1, 12, 7, tzinfo=UTC)
CHECK_S = 0.1  # the runners check every 0.1 s of real time; their lease lasts 0.3 s of clock
DEADLINE_S = 30.0


def _wait_for(what: str, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)  # waiting for other processes, not for time to pass


def _gate_name(at: datetime) -> str:
    return f"{EPOCH + ((at - EPOCH) // GATE_EVERY) * GATE_EVERY:%Y%m%dT%H%M%SZ}"


def _log(folder: Path, name: str) -> str:
    path = folder / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def _tick(at: datetime, every: timedelta) -> datetime:
    return EPOCH + ((at - EPOCH) // every) * every


@pytest.fixture
def runners(database_url: str, tmp_path: Path) -> Iterator[tuple[dict[str, str], list]]:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGE_")}
    env.update(
        {
            env_name("instance_path"): str(tmp_path / "instance"),
            env_name("database_url"): database_url,
            env_name("clock_file"): str(tmp_path / "clock"),
            env_name("job_check_s"): str(CHECK_S),
            env_name("job_gate_dir"): str(tmp_path / "gates"),
            env_name("log_level"): "INFO",
        }
    )
    (tmp_path / "gates").mkdir()
    started: list[subprocess.Popen[bytes]] = []
    yield env, started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_runner_killed_mid_tick_is_taken_over_and_every_tick_runs_once(
    runners: tuple[dict[str, str], list],
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    env, started = runners
    clock_file, gates = Path(env[env_name("clock_file")]), Path(env[env_name("job_gate_dir")])
    database = Database(make_engine(load_settings(environ=env)))
    write_clock_file(clock_file, T0)

    def runner(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [str(VENV_BIN / "signage"), "jobs", "run"], env=env, stdout=log, stderr=log
        )
        log.close()
        started.append(process)
        return process

    def rows() -> list[JobRun]:
        with database.session(write=False) as session:
            return list(session.scalars(select(JobRun).order_by(JobRun.id)))

    def ran(job: str, at: datetime) -> bool:
        return any(r.job == job and r.scheduled_for == at and r.outcome == "ok" for r in rows())

    def lease_holder() -> str | None:
        with database.session(write=False) as session:
            return session.scalar(select(JobLease.holder))

    try:
        first, second = runner("a"), runner("b")
        gate0, gate1 = _gate_name(T0), _gate_name(T0 + GATE_EVERY)
        started0 = gates / f"{gate0}.started"
        _wait_for("a runner to reach the middle of its tick", started0.exists)
        holder = started0.read_text()
        by_pid = {p.pid: p for p in (first, second)}
        victim = by_pid.pop(int(holder.rsplit(":", 1)[1]))
        [survivor] = by_pid.values()
        assert lease_holder() == holder

        victim.send_signal(signal.SIGKILL)
        victim.wait()
        started0.unlink()
        # Its tick was not recorded (the record commits with the work), and on the runners'
        # clock its lease has not expired: for ten checks, nobody runs the tick.
        deadline = time.monotonic() + 10 * CHECK_S
        while time.monotonic() < deadline:
            assert not started0.exists() and lease_holder() == holder
            time.sleep(CHECK_S / 2)
        assert not any(r.job == "gate" for r in rows())

        # The lease expires (three checks); the survivor takes it and runs the same tick.
        write_clock_file(clock_file, T0 + timedelta(seconds=1))
        _wait_for("the survivor to take over the tick", started0.exists)
        survivor_holder = started0.read_text()
        assert survivor_holder.endswith(f":{survivor.pid}")
        (gates / f"{gate0}.go").touch()
        _wait_for("the tick to finish", lambda: ran("gate", _tick(T0, GATE_EVERY)))

        # A replacement joins the race; the next hour's ticks run once, whoever holds the lease.
        runner("c")
        _wait_for("the third runner to start", lambda: "checking every" in _log(tmp_path, "c"))
        write_clock_file(clock_file, T0 + GATE_EVERY)
        _wait_for("the next tick", (gates / f"{gate1}.started").exists)
        (gates / f"{gate1}.go").touch()
        _wait_for(
            "the next tick to finish", lambda: ran("gate", _tick(T0 + GATE_EVERY, GATE_EVERY))
        )
    finally:
        for process in started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = [p.wait(30) for p in started if p is not victim]
    assert codes == [0, 0], [_log(tmp_path, n) for n in "abc"]

    done = rows()
    database.engine.dispose()
    expected = {
        (job.name, _tick(at, job.every)) for job in (*JOBS,) for at in (T0, T0 + GATE_EVERY)
    } | {("gate", _tick(T0, GATE_EVERY)), ("gate", _tick(T0 + GATE_EVERY, GATE_EVERY))}
    assert sorted((r.job, r.scheduled_for) for r in done) == sorted(expected)  # each once
    assert all(r.outcome == "ok" and r.finished_at is not None for r in done)
    [killed_tick] = [
        r for r in done if r.job == "gate" and r.scheduled_for == _tick(T0, GATE_EVERY)
    ]
    assert killed_tick.holder == survivor_holder
