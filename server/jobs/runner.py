"""Timed server work, run by exactly one process: `signage jobs run`.

One runner holds a lease row (`job_leases`: name, holder, expires_at), taken or renewed by
a conditional UPDATE and kept while the process lives. Each job's run is recorded under a
unique (job, scheduled_for) key, where scheduled_for is the job's tick — now rounded down
to its interval on a fixed epoch. The record is written first, in the same transaction as
the job's work: a runner killed mid-tick leaves neither (the next lease holder runs that
tick), and two runners that both believe they hold the lease (a paused process waking
after its lease moved on) cannot both commit the same tick — the second one's claim waits
for the first and fails, and its work is rolled back. APScheduler drives the loop; a
failing job is logged and recorded, never fatal.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from server.alerts.evaluate import evaluate
from server.alerts.outbox import deliver
from server.auth.limits import prune_counters
from server.clock import Clock
from server.config import Settings
from server.db import Database
from server.jobs.models import JobLease, JobRun
from server.monitoring.metrics import Metrics
from server.reports.models import PlayEvent
from server.screens.pairing import prune_pairings

log = logging.getLogger(__name__)
LEASE = "runner"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
JOB_RUN_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[Session, datetime, Settings], str]  # returns a line for the log
    # The job commits in sessions of its own (the alert outbox): its tick is claimed and
    # committed before it runs, not in its transaction (see _run_tick).
    own_transactions: bool = False

    def tick(self, now: datetime) -> datetime:
        """The scheduled instant this run belongs to: the same on every node."""
        return EPOCH + ((now - EPOCH) // self.every) * self.every


def _prune_pairings(session: Session, now: datetime, settings: Settings) -> str:
    return f"{prune_pairings(session, now)} expired pairings removed"


def _prune_rate_counters(session: Session, now: datetime, settings: Settings) -> str:
    return f"{prune_counters(session, now)} old rate-limit counters removed"


def _prune_plays(session: Session, now: datetime, settings: Settings) -> str:
    cutoff = now - timedelta(days=settings.play_retention_days)
    plays = _count(session.execute(delete(PlayEvent).where(PlayEvent.end < cutoff)))
    runs = _count(
        session.execute(delete(JobRun).where(JobRun.started_at < now - JOB_RUN_RETENTION))
    )
    return f"{plays} play events before {cutoff:%Y-%m-%d} and {runs} job runs removed"


def _count(result: object) -> int:
    """Rows a DML statement touched (typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _evaluate_alerts(session: Session, now: datetime, settings: Settings) -> str:
    return str(evaluate(session, now, settings))


def _deliver_alerts(session: Session, now: datetime, settings: Settings) -> str:
    # The outbox commits its claims before sending, so it works in sessions of its own.
    holder = f"{default_holder()}:{secrets.token_hex(4)}"
    return str(deliver(session.get_bind(), holder, now, settings))  # type: ignore[arg-type]


JOBS: tuple[Job, ...] = (
    Job("prune-pairings", timedelta(minutes=15), _prune_pairings),
    Job("prune-plays", timedelta(days=1), _prune_plays),
    Job("prune-rate-counters", timedelta(hours=1), _prune_rate_counters),
    Job("alerts-evaluate", timedelta(minutes=1), _evaluate_alerts),
    Job("alerts-deliver", timedelta(seconds=30), _deliver_alerts, own_transactions=True),
)
GATE_EVERY = timedelta(hours=1)


def gate_job(folder: Path, holder: str) -> Job:
    """TESTS ONLY (the `job_gate_dir` setting): a job that stops mid-tick until told to go.

    On each tick it writes `<folder>/<tick>.started` (holding `holder`), then waits until
    `<folder>/<tick>.go` exists, so a test can kill the runner at a known point of a tick.
    """

    def run(session: Session, now: datetime, settings: Settings) -> str:
        name = f"{EPOCH + ((now - EPOCH) // GATE_EVERY) * GATE_EVERY:%Y%m%dT%H%M%SZ}"
        (folder / f"{name}.started").write_text(holder, encoding="utf-8")
        while not (folder / f"{name}.go").exists():
            time.sleep(0.02)  # waiting for the test's go, not for time to pass
        return f"gate {name} opened"

    return Job("gate", GATE_EVERY, run)


def jobs_for(settings: Settings, holder: str) -> tuple[Job, ...]:
    """The jobs a runner runs: JOBS, plus the test gate where a test asks for it."""
    if settings.job_gate_dir is None:
        return JOBS
    return (*JOBS, gate_job(settings.job_gate_dir, holder))


@dataclass(frozen=True)
class Outcome:
    job: str
    scheduled_for: datetime
    ran: bool  # False: another run of this tick exists
    ok: bool
    detail: str


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def take_lease(database: Database, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease if it is free or expired, or renew it if ours; False if another holds it."""
    expires = now + ttl
    with database.session() as session:
        # The write comes first: on SQLite it waits for the lock and then sees every commit.
        taken = _count(
            session.execute(
                update(JobLease)
                .where(
                    JobLease.name == LEASE,
                    or_(JobLease.holder == holder, JobLease.expires_at <= now),
                )
                .values(holder=holder, expires_at=expires)
            )
        )
        if taken:
            return True
        try:
            with session.begin_nested():
                session.add(JobLease(name=LEASE, holder=holder, expires_at=expires))
        except IntegrityError:
            return False
        return True


def release_lease(database: Database, holder: str) -> None:
    with database.session() as session:
        session.execute(delete(JobLease).where(JobLease.name == LEASE, JobLease.holder == holder))


def run_due(
    database: Database,
    settings: Settings,
    holder: str,
    now: datetime,
    jobs: Sequence[Job] = JOBS,
    metrics: Metrics | None = None,
) -> list[Outcome]:
    """Run each job's current tick unless some runner already has; one transaction per job."""
    outcomes = []
    for job in jobs:
        outcome = _run_tick(database, settings, holder, job, job.tick(now), now)
        if metrics is not None and outcome.ran:
            metrics.job_ran(job.name, outcome.ok)
        outcomes.append(outcome)
    return outcomes


class _AlreadyRun(Exception):
    """Another runner has recorded this tick."""


def _run_tick(
    database: Database, settings: Settings, holder: str, job: Job, tick: datetime, now: datetime
) -> Outcome:
    already = Outcome(job.name, tick, False, True, "already run")
    with database.session(write=False) as session:
        # A plain read first: a tick that has run costs no failed insert on every check.
        if session.scalar(_tick_run(job.name, tick)) is not None:
            return already
    if job.own_transactions:
        return _run_claimed_first(database, settings, holder, job, tick, now)
    try:
        with database.session() as session:
            run = JobRun(job=job.name, scheduled_for=tick, holder=holder, started_at=now)
            session.add(run)
            try:
                # The claim comes before any work: a rival's uncommitted claim of the same
                # tick makes this wait (PostgreSQL) and then fail; on SQLite the write lock
                # already serialises the two.
                session.flush()
            except IntegrityError:
                raise _AlreadyRun from None
            detail = job.run(session, now, settings)[:1000]
            run.finished_at, run.outcome, run.detail = now, "ok", detail
    except _AlreadyRun:
        return already
    except Exception as exc:  # a failing job is reported, never fatal to the runner
        log.exception("job %s failed", job.name)
        detail = f"{type(exc).__name__}: {exc}"[:1000]
        try:
            with database.session() as session:
                session.add(
                    JobRun(
                        job=job.name,
                        scheduled_for=tick,
                        holder=holder,
                        started_at=now,
                        finished_at=now,
                        outcome="failed",
                        detail=detail,
                    )
                )
        except IntegrityError:
            return already  # another runner ran it while this one failed
        return Outcome(job.name, tick, True, False, detail)
    log.info("job %s (%s): %s", job.name, tick.isoformat(), detail)
    return Outcome(job.name, tick, True, True, detail)


def _run_claimed_first(
    database: Database, settings: Settings, holder: str, job: Job, tick: datetime, now: datetime
) -> Outcome:
    """A job that commits on its own cannot run inside its claim's transaction (on SQLite
    that transaction holds the write lock the job's own sessions wait for). Its claim is
    committed first: a runner killed in the middle of it loses that tick, and the job's next
    tick takes up what it left (the alert outbox keeps its own claims)."""
    try:
        with database.session() as session:
            session.add(JobRun(job=job.name, scheduled_for=tick, holder=holder, started_at=now))
    except IntegrityError:
        return Outcome(job.name, tick, False, True, "already run")
    try:
        with database.session() as session:
            detail = job.run(session, now, settings)[:1000]
        ok = True
    except Exception as exc:  # a failing job is reported, never fatal to the runner
        log.exception("job %s failed", job.name)
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:1000]
    with database.session() as session:
        session.execute(
            update(JobRun)
            .where(JobRun.job == job.name, JobRun.scheduled_for == tick)
            .values(finished_at=now, outcome="ok" if ok else "failed", detail=detail)
        )
    log.info("job %s (%s): %s", job.name, tick.isoformat(), detail)
    return Outcome(job.name, tick, True, ok, detail)


def _tick_run(job: str, tick: datetime):  # type: ignore[no-untyped-def]
    return select(JobRun.id).where(JobRun.job == job, JobRun.scheduled_for == tick)


class Runner:
    """The loop of `signage jobs run`: hold the lease, run what is due, every `check`."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        clock: Clock,
        *,
        holder: str | None = None,
        jobs: Sequence[Job] | None = None,
        check: timedelta | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.metrics = metrics
        self.database, self.settings, self.clock = database, settings, clock
        self.holder = holder or default_holder()
        self.jobs = tuple(jobs_for(settings, self.holder) if jobs is None else jobs)
        self.check = check or timedelta(seconds=settings.job_check_s)
        self.ttl = self.check * 3  # survives two missed checks before another may take over

    def step(self) -> list[Outcome]:
        """One check: renew or take the lease, then run the due ticks (nothing without it)."""
        now = self.clock.now()
        try:
            if not take_lease(self.database, self.holder, now, self.ttl):
                return []
        except OperationalError as exc:  # a busy or unreachable database: try next check
            log.warning("job runner %s: cannot reach the lease: %s", self.holder, exc.orig)
            return []
        return run_due(self.database, self.settings, self.holder, now, self.jobs, self.metrics)

    def run_forever(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            self.step,
            IntervalTrigger(seconds=self.check.total_seconds(), timezone=UTC),
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
        )
        scheduler.start()
        try:
            stop.wait()
        finally:
            scheduler.shutdown(wait=True)
            release_lease(self.database, self.holder)
