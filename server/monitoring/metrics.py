"""The instruments every part of the server counts with, made once per app (never at import).

Under gunicorn, set PROMETHEUS_MULTIPROC_DIR: prometheus-client then keeps each process's
values in a file of that folder and `/metrics` adds them up (see docs/operations.md). The
hot path (a poll) costs a dictionary lookup and a counter increment here: the labelled
children are made up front.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

POLL_ANSWERS: Final = ("200", "304", "401", "503")
LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
COMPILE_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FLUSH_SIZES: Final = (1, 10, 100, 1000, 10_000, 100_000)
UPLOAD_REASONS: Final[Mapping[int, str]] = {
    400: "bad_request",
    413: "too_large",
    415: "unsupported_type",
    422: "rejected",
    503: "unavailable",
}


class Metrics:
    """One app's instruments, registered on its own registry (tests make many apps)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter(
            "signage_polls", "Manifest polls by HTTP answer", ["answer"], registry=r
        )
        self.poll_seconds = Histogram(
            "signage_poll_seconds", "Time to answer a manifest poll", buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._poll_children = {a: self.polls.labels(a) for a in (*POLL_ANSWERS, "other")}
        self.compiles = Counter(
            "signage_manifest_compiles", "Manifest parts compiled (cache misses)", registry=r
        )
        self.compile_seconds = Histogram(
            "signage_manifest_compile_seconds", "Time to compile a manifest part",
            buckets=COMPILE_BUCKETS, registry=r,
        )
        self.cache_hits = Counter(
            "signage_manifest_cache_hits", "Manifest parts served from the cache", registry=r
        )
        self.flushes = Counter(
            "signage_heartbeat_flushes", "Heartbeat flushes that wrote something", registry=r
        )
        self.flush_screens = Histogram(
            "signage_heartbeat_flush_screens", "Screens written per heartbeat flush",
            buckets=FLUSH_SIZES, registry=r,
        )
        self.flush_seconds = Histogram(
            "signage_heartbeat_flush_seconds", "Time to write one heartbeat flush",
            buckets=LATENCY_BUCKETS, registry=r,
        )
        self.job_runs = Counter(
            "signage_job_runs", "Job runs by job and outcome (ok, failed)", ["job", "outcome"],
            registry=r,
        )
        self.upload_refusals = Counter(
            "signage_upload_refusals", "Uploads refused, by reason", ["reason"], registry=r
        )

    def poll(self, status: int, seconds: float) -> None:
        child = self._poll_children.get(str(status)) or self._poll_children["other"]
        child.inc()
        self.poll_seconds.observe(seconds)

    def compiled(self, seconds: float) -> None:
        self.compiles.inc()
        self.compile_seconds.observe(seconds)

    def flushed(self, screens: int, seconds: float) -> None:
        self.flushes.inc()
        self.flush_screens.observe(screens)
        self.flush_seconds.observe(seconds)

    def job_ran(self, job: str, ok: bool) -> None:
        self.job_runs.labels(job, "ok" if ok else "failed").inc()

    def upload_refused(self, status: int) -> None:
        self.upload_refusals.labels(UPLOAD_REASONS.get(status, "other")).inc()
