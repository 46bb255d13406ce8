"""Time as a collaborator: the app and the services ask a clock, so tests can set it."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from flask import Flask, current_app

from server.errors import ConfigError


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock that stands still until moved; for tests and for previews of another moment."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SettableClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class FileClock:
    """FOR TESTS AND DEMOS ONLY: a clock that a file sets, so another process can move it.

    The file holds either an RFC 3339 instant (`2026-01-05T09:00:00Z`: the clock stands
    there until the file changes) or a signed number of seconds added to the system clock
    (`+3600`, `-90.5`). A missing or empty file means the system clock. The file is
    re-read only when its inode, size or mtime change, so a poll costs one `stat`.
    Production never sets `clock_file`; the setting exists so integration tests can move
    a real server process through a publish or a midnight without sleeping.
    """

    def __init__(self, path: Path, system: Clock | None = None) -> None:
        self.path = Path(path)
        self._system = system or SystemClock()
        self._lock = threading.Lock()
        self._key: tuple[int, int, int] | None = None
        self._fixed: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return self._system.now()
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if key != self._key:
            with self._lock:
                self._fixed, self._offset = parse_clock_file(self.path.read_text("utf-8"))
                self._key = key
        if self._fixed is not None:
            return self._fixed
        return self._system.now() + self._offset


def parse_clock_file(text: str) -> tuple[datetime | None, timedelta]:
    """A clock file's content as (fixed instant, None) or (None, offset from the system)."""
    text = text.strip()
    if not text:
        return None, timedelta(0)
    if text[0] in "+-":
        try:
            return None, timedelta(seconds=float(text))
        except (ValueError, OverflowError):
            raise ConfigError(f"clock file: {text!r} is not a signed number of seconds") from None
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"clock file: {text!r} is not an RFC 3339 instant") from None
    if instant.tzinfo is None:
        raise ConfigError(f"clock file: {text!r} has no time zone")
    return instant.astimezone(UTC), timedelta(0)


def write_clock_file(path: Path, value: datetime | timedelta) -> None:
    """Set a FileClock from outside: an instant to stand at, or an offset from the system."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("write_clock_file needs an aware datetime")
        text = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    else:
        text = f"{value.total_seconds():+f}"
    path = Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_text(text + "\n", encoding="utf-8")
    os.replace(temp, path)  # a new inode: readers never see half a file


def from_settings(settings: object) -> Clock:
    """A FileClock if the settings name one (tests and demos only), else the system clock."""
    clock_file = getattr(settings, "clock_file", None)
    return FileClock(clock_file) if clock_file else SystemClock()


def init_app(app: Flask, clock: Clock | None) -> None:
    """The given clock, else the one the settings call for."""
    app.extensions["signage.clock"] = clock or from_settings(app.config.get("SIGNAGE"))


def get_clock(app: Flask | None = None) -> Clock:
    clock: Clock = (app or current_app).extensions["signage.clock"]
    return clock


def now() -> datetime:
    """The app's current instant (inside an app context)."""
    return get_clock().now()
