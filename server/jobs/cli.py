"""`signage jobs run|once`: the one job runner, as a loop or a single pass."""

from __future__ import annotations

import signal
import sys
import threading

import click

from server import clock
from server.cli import friendly, settings_from
from server.db import Database, make_engine
from server.jobs.runner import Runner, release_lease
from server.monitoring.metrics import Metrics


@click.group()
def jobs() -> None:
    """Timed server work (pruning expired pairings, old plays): one runner per installation."""


@jobs.command("run")
@click.pass_context
@friendly
def jobs_run(ctx: click.Context) -> None:
    """Run the job loop until stopped; safe to start on several nodes (one holds the lease)."""
    settings = settings_from(ctx)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runner = Runner(
        Database(make_engine(settings)), settings, clock.from_settings(settings), metrics=Metrics()
    )
    click.echo(f"job runner {runner.holder}: checking every {runner.check.total_seconds():g}s")
    runner.run_forever(stop)


@jobs.command("once")
@click.pass_context
@friendly
def jobs_once(ctx: click.Context) -> None:
    """Take the lease and run every job's current tick once (for cron, or by hand)."""
    settings = settings_from(ctx)
    database = Database(make_engine(settings))
    runner = Runner(database, settings, clock.from_settings(settings), metrics=Metrics())
    try:
        outcomes = runner.step()
        if outcomes:
            release_lease(database, runner.holder)
    finally:
        database.engine.dispose()
    if not outcomes:
        raise click.ClickException("another job runner holds the lease; nothing was run")
    for o in outcomes:
        state = ("ok" if o.ok else "FAILED") if o.ran else "skipped"
        click.echo(f"{o.job} {o.scheduled_for.isoformat()} {state}: {o.detail}")
    if any(not o.ok for o in outcomes):
        sys.exit(1)
