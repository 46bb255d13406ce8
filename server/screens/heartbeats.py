"""Heartbeats: every poll says "seen now" (and maybe a status); each process keeps the latest
per screen in memory and writes them all in one transaction every few seconds.

Losing a flush (a crash) loses seconds of last-seen, never data that matters. Several
processes may flush the same screen: a write never moves last-seen backwards.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, Engine, bindparam, case, or_, update

from server import faults
from server.db import UTCDateTime
from server.screens.models import Screen

log = logging.getLogger(__name__)
STATUS_HEADER: Final = "Signage-Status"
MAX_STATUS_BYTES: Final = 4096


def parse_status(header: str | None) -> dict[str, Any] | None:
    """The Signage-Status header as a JSON object, or None when absent, too big or malformed
    (a bad status is ignored, never an error: the poll itself must still work)."""
    if not header or len(header) > MAX_STATUS_BYTES or not header.isascii():
        return None
    try:
        value = json.loads(header)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True, slots=True)
class Beat:
    at: datetime
    status: dict[str, Any] | None


class HeartbeatBuffer:
    """The latest beat per screen since the last flush; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._beats: dict[int, Beat] = {}

    def record(self, screen_id: int, at: datetime, status: dict[str, Any] | None) -> None:
        with self._lock:
            old = self._beats.get(screen_id)
            if old is not None:
                if old.at > at:
                    return
                if status is None:
                    status = old.status  # a poll without status keeps the last one reported
            self._beats[screen_id] = Beat(at, status)

    def drain(self) -> dict[int, Beat]:
        with self._lock:
            beats, self._beats = self._beats, {}
        return beats

    def restore(self, beats: Mapping[int, Beat]) -> None:
        """Put back beats a failed flush could not write (newer ones recorded since win)."""
        for screen_id, beat in beats.items():
            self.record(screen_id, beat.at, beat.status)

    def __len__(self) -> int:
        return len(self._beats)


_AT = bindparam("b_at", type_=UTCDateTime())
_NEWER = or_(Screen.last_seen_at.is_(None), Screen.last_seen_at < _AT)
_SEEN = (
    update(Screen)
    .where(Screen.id == bindparam("b_id"))
    .values(last_seen_at=case((_NEWER, _AT), else_=Screen.last_seen_at))
)
_SEEN_WITH_STATUS = (
    update(Screen)
    .where(Screen.id == bindparam("b_id"))
    .values(
        # Every SET expression reads the row as it was, so both test the old last-seen.
        status=case((_NEWER, bindparam("b_status", type_=JSON())), else_=Screen.status),
        last_seen_at=case((_NEWER, _AT), else_=Screen.last_seen_at),
    )
)


def write_beats(engine: Engine, beats: Mapping[int, Beat]) -> None:
    """Write beats in one transaction: at most two statements, whatever their number."""
    plain = [{"b_id": sid, "b_at": b.at} for sid, b in beats.items() if b.status is None]
    full = [
        {"b_id": sid, "b_at": b.at, "b_status": b.status}
        for sid, b in beats.items()
        if b.status is not None
    ]
    if not (plain or full):
        return
    with engine.begin() as conn:
        if plain:
            conn.execute(_SEEN, plain)
        if full:
            conn.execute(_SEEN_WITH_STATUS, full)


class Heartbeats:
    """One process's heartbeats: the buffer, its flush, and the thread that runs it."""

    def __init__(
        self,
        engine: Engine,
        interval_s: float,
        *,
        thread: Callable[[], bool] | bool,
        observe: Callable[[int, float], None] | None = None,
    ) -> None:
        self.buffer = HeartbeatBuffer()
        self.observe = observe  # told (screens written, seconds taken) after each flush
        self.engine = engine
        self.interval_s = interval_s
        self._thread_wanted = thread if callable(thread) else (lambda: thread)
        self._thread_checked = False
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._start_lock = threading.Lock()

    def record(self, screen_id: int, at: datetime, status: dict[str, Any] | None) -> None:
        self.buffer.record(screen_id, at, status)
        if not self._thread_checked:
            self._thread_checked = True
            if self._thread_wanted():
                self._start()

    def flush(self) -> int:
        """Write what is buffered now; returns how many screens were written."""
        beats = self.buffer.drain()
        if not beats:
            return 0
        started = time.perf_counter()
        faults.point("before-heartbeat-flush")
        try:
            write_beats(self.engine, beats)
        except Exception:
            self.buffer.restore(beats)
            raise
        if self.observe is not None:
            self.observe(len(beats), time.perf_counter() - started)
        return len(beats)

    def _start(self) -> None:
        # Started on the first beat, not in create_app: a gunicorn master that preloads the
        # app must not fork with a running thread, and each worker wants its own.
        with self._start_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="signage-heartbeats", daemon=True
            )
            self._thread.start()
            atexit.register(self.stop)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.flush()
            except Exception:
                log.exception("heartbeat flush failed; will retry")

    def stop(self) -> None:
        """Stop the thread (if any) and write what is left: called at exit."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self.interval_s + 5)
        try:
            self.flush()
        except Exception:
            log.exception("final heartbeat flush failed")
