"""Per-process state of the player API: heartbeat buffer, manifest cache, load-shedding gate.

Made once per app (when the player blueprint is registered), nothing at import time.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from flask import Flask, Request, Response, current_app
from flask.sessions import SessionInterface, SessionMixin

from server.clock import Clock, get_clock
from server.config import Settings
from server.db import get_db, get_session
from server.delivery.cache import ManifestCache
from server.delivery.poll import Poller
from server.errors import ServiceUnavailable
from server.media.profiles import Profile, parse_profiles
from server.media.store import MediaStore
from server.monitoring.metrics import Metrics
from server.monitoring.views import get_metrics
from server.screens.devices import DeviceLookup
from server.screens.heartbeats import Heartbeats
from server.storage import get_store

EXTENSION_KEY: Final = "signage.player"


class Gate:
    """At most `limit` player requests at once in this process; the next one is refused
    at once (503 + Retry-After), never queued: a player that is told to come back later
    keeps playing what it has, a hung request ties up a worker for nothing.

    Requests that already waited too long in front of the app (a proxy's X-Request-Start
    says when it passed them on; gunicorn queues them while its threads are busy) are
    refused the same way: their player has likely given up, and answering them late only
    makes the queue longer.
    """

    def __init__(self, limit: int, retry_after_s: int, max_queue_ms: int = 0) -> None:
        self.limit = limit
        self.retry_after_s = max(1, retry_after_s)
        self.max_queue_ms = max_queue_ms
        self._slots = threading.BoundedSemaphore(limit) if limit > 0 else None

    def _busy(self, why: str) -> ServiceUnavailable:
        # Spread the retries over a poll interval so the shed load does not return at once.
        wait = 1 + secrets.randbelow(self.retry_after_s)
        return ServiceUnavailable(f"the server is busy ({why}); try again shortly", wait)

    def enter(self, request_start: str | None = None, now: datetime | None = None) -> bool:
        """Take a slot (True) or raise ServiceUnavailable; False when there is no limit."""
        if request_start and self.max_queue_ms and now is not None:
            waited = queued_ms(request_start, now)
            if waited is not None and waited > self.max_queue_ms:
                raise self._busy(f"queued {waited:.0f} ms")
        if self._slots is None:
            return False
        if not self._slots.acquire(blocking=False):
            raise self._busy("too many requests at once")
        return True

    def leave(self) -> None:
        if self._slots is not None:
            self._slots.release()


class _NoSessionFor(SessionInterface):
    """The app's session interface, except under `prefix`: players carry no cookie, and
    loading (and re-signing) the cookie session is a fifth of what a 304 poll costs."""

    def __init__(self, inner: SessionInterface, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix
        self.null_session_class = inner.null_session_class

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        if request.path.startswith(self.prefix):
            return self.make_null_session(app)
        return self.inner.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not self.is_null_session(session):
            self.inner.save_session(app, session, response)


def queued_ms(header: str, now: datetime) -> float | None:
    """How long ago a proxy's `X-Request-Start` (`t=1690000000.123` in seconds as nginx's
    `${msec}` writes it, or integer milli- or microseconds) was, or None if unreadable."""
    value = header.strip().removeprefix("t=")
    try:
        number = float(value)
    except ValueError:
        return None
    if "." not in value:
        number /= 1e6 if number > 1e15 else 1e3 if number > 1e12 else 1
    return (now.timestamp() - number) * 1000


@dataclass
class PlayerRuntime:
    settings: Settings
    clock: Clock
    store: MediaStore
    devices: DeviceLookup
    heartbeats: Heartbeats
    manifests: ManifestCache
    profiles: tuple[Profile, ...]
    gate: Gate
    poller: Poller
    metrics: Metrics


def init_app(app: Flask, prefix: str) -> PlayerRuntime:
    """Set up the player API's per-process state; `prefix` is its URL prefix."""
    settings: Settings = app.config["SIGNAGE"]
    metrics = get_metrics(app)
    app.session_interface = _NoSessionFor(app.session_interface, prefix)
    heartbeats = Heartbeats(
        get_db(app).engine,
        settings.heartbeat_flush_s,
        # Decided at the first heartbeat: tests set app.testing after create_app.
        thread=lambda: settings.heartbeat_thread and not app.testing,
        observe=metrics.flushed,
    )
    store, manifests = get_store(app), ManifestCache()
    profiles = tuple(parse_profiles(settings.screen_profiles))
    runtime = PlayerRuntime(
        settings=settings,
        clock=get_clock(app),
        store=store,
        devices=DeviceLookup(get_db(app).engine),
        heartbeats=heartbeats,
        manifests=manifests,
        profiles=profiles,
        gate=Gate(
            settings.player_concurrency, settings.poll_interval_s, settings.player_max_queue_ms
        ),
        metrics=metrics,
        poller=Poller(get_session, store, manifests, settings, profiles, metrics),
    )
    app.extensions[EXTENSION_KEY] = runtime
    return runtime


def player_runtime(app: Flask | None = None) -> PlayerRuntime:
    runtime: PlayerRuntime = (app or current_app).extensions[EXTENSION_KEY]
    return runtime
