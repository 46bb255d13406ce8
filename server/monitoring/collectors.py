"""What `/metrics` reads from the database at scrape time: screens online and offline per
organisation, and each job's latest run. Two grouped queries, no per-screen work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select

from server.accounts.models import Organisation
from server.config import Settings
from server.jobs.models import JobRun
from server.screens.models import Screen


class DatabaseCollector(Collector):
    def __init__(self, engine: Engine, settings: Settings, now: Callable[[], datetime]) -> None:
        self.engine, self.settings, self.now = engine, settings, now

    def collect(self) -> Iterator[Metric]:
        s = self.settings
        cutoff = self.now() - timedelta(seconds=s.poll_interval_s * s.offline_after_polls)
        screens = GaugeMetricFamily(
            "signage_screens",
            "Screens by organisation and state (online: seen within offline_after_polls polls)",
            labels=["organisation", "state"],
        )
        online = func.sum(case((Screen.last_seen_at >= cutoff, 1), else_=0))
        runs = GaugeMetricFamily(
            "signage_job_last_run_timestamp_seconds",
            "When each job last ran, by outcome (ok, failed)",
            labels=["job", "outcome"],
        )
        with self.engine.connect() as conn:
            for name, total, up in conn.execute(
                select(Organisation.name, func.count(Screen.id), online)
                .join(Screen, Screen.organisation_id == Organisation.id)
                .group_by(Organisation.id, Organisation.name)
            ):
                up = int(up or 0)
                screens.add_metric([name, "online"], up)
                screens.add_metric([name, "offline"], int(total) - up)
            for job, outcome, last in conn.execute(
                select(JobRun.job, JobRun.outcome, func.max(JobRun.started_at)).group_by(
                    JobRun.job, JobRun.outcome
                )
            ):
                if isinstance(last, datetime):
                    runs.add_metric([job, outcome], _timestamp(last))
        yield screens
        yield runs


def _timestamp(value: datetime) -> float:
    # A bare select returns the column type's value: aware on PostgreSQL, naive UTC on SQLite.
    if value.tzinfo is None:
        return (value - datetime(1970, 1, 1)).total_seconds()
    return value.timestamp()
