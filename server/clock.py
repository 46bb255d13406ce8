"""Time as a collaborator: the app and the services ask a clock, so tests can set it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from flask import Flask, current_app


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


def init_app(app: Flask, clock: Clock | None) -> None:
    app.extensions["signage.clock"] = clock or SystemClock()


def get_clock(app: Flask | None = None) -> Clock:
    clock: Clock = (app or current_app).extensions["signage.clock"]
    return clock


def now() -> datetime:
    """The app's current instant (inside an app context)."""
    return get_clock().now()
