"""Time: the local clock (injectable), and the server's time estimated from each request.

Once a request has reached the server, the corrected time is the server's time at that
request carried forward on the monotonic clock, which no NTP step, operator or bad RTC can
move: a step of the local wall clock changes nothing on screen. Before any request has
reached the server (a player started offline) the local wall clock is all there is.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The server stamps whole milliseconds; two honest samples may disagree by that much.
_SLACK = timedelta(milliseconds=2)


def to_ms(instant: datetime) -> int:
    """Milliseconds since the Unix epoch of an aware datetime, floored."""
    return (instant - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int | float) -> datetime:
    """The aware UTC datetime `ms` milliseconds after the Unix epoch."""
    return EPOCH + timedelta(milliseconds=ms)


def iso_ms(instant: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and a `Z`, as the protocol writes instants."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Clock(Protocol):
    """The player's view of local time; tests and the CLI's test options inject other ones."""

    def wall(self) -> datetime:
        """The local wall clock, aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps; only differences mean anything."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for `seconds` of this clock's time."""
        ...


class SystemClock:
    """The machine's clocks."""

    def wall(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class SkewedClock:
    """Another clock's wall time shifted by a fixed amount (test option `--clock-skew-ms`)."""

    def __init__(self, base: Clock, skew: timedelta) -> None:
        self._base = base
        self.skew = skew

    def wall(self) -> datetime:
        return self._base.wall() + self.skew

    def monotonic(self) -> float:
        return self._base.monotonic()

    def sleep(self, seconds: float) -> None:
        self._base.sleep(seconds)


class FileOffsetClock:
    """Another clock's wall time shifted by the milliseconds written in a file (test only).

    A test writes e.g. `-3600000` to the file to move a running player's wall clock an hour
    back, at any moment; time keeps flowing at the real rate. A missing, empty or unparsable
    file means no shift. The file is re-read only when its mtime or size changes.
    """

    def __init__(self, base: Clock, path: Path) -> None:
        self._base = base
        self._path = path
        self._stamp: tuple[int, int] | None = None
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def offset(self) -> timedelta:
        """The shift currently written in the file."""
        with self._lock:
            try:
                st = os.stat(self._path)
            except OSError:
                self._stamp, self._offset = None, timedelta(0)
                return self._offset
            stamp = (st.st_mtime_ns, st.st_size)
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    text = self._path.read_text(encoding="ascii").strip()
                    self._offset = timedelta(milliseconds=float(text)) if text else timedelta(0)
                except (OSError, ValueError):
                    self._offset = timedelta(0)
            return self._offset

    def wall(self) -> datetime:
        return self._base.wall() + self.offset()

    def monotonic(self) -> float:
        return self._base.monotonic()

    def sleep(self, seconds: float) -> None:
        self._base.sleep(seconds)


@dataclass(frozen=True)
class OffsetSample:
    """One request's estimate: server − local wall, with its error bound (half the round
    trip), and the server's time at the monotonic midpoint of the request (`server_at`
    when the monotonic clock read `mono_at`)."""

    offset: timedelta
    error: timedelta
    round_trip: timedelta
    server_at: datetime = EPOCH
    mono_at: float = 0.0

    @property
    def mono_offset(self) -> timedelta:
        """Server time minus the monotonic clock: what a step of the wall clock cannot move."""
        return self.server_at - EPOCH - timedelta(seconds=self.mono_at)

    def server_time(self, mono: float) -> datetime:
        """The server's time when the monotonic clock reads `mono`, by this sample."""
        return self.server_at + timedelta(seconds=mono - self.mono_at)


class OffsetEstimator:
    """NTP-style clock filter: of the last `keep` samples, trust the one with the shortest trip.

    For a request sent at local wall `t0` and answered with server time `s` at `t1`, the
    offset is `s − (t0 + t1)/2` within `±(t1 − t0)/2`. The round trip is measured on the
    monotonic clock, and each sample also anchors the server's time to the monotonic
    clock. A sample whose bounds do not overlap the current best one, compared on the
    monotonic clock, means the server's clock stepped: the older samples are then discarded.
    A step of the local wall clock moves no sample's anchor and discards nothing.
    """

    def __init__(self, keep: int = 8) -> None:
        self._samples: deque[OffsetSample] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def add(
        self, sent_wall: datetime, sent_mono: float, received_mono: float, server: datetime
    ) -> OffsetSample:
        """Record one request/response exchange and return its sample."""
        trip = timedelta(seconds=max(0.0, received_mono - sent_mono))
        offset = server - (sent_wall + trip / 2)
        mid = sent_mono + trip.total_seconds() / 2
        sample = OffsetSample(offset, trip / 2, trip, server_at=server, mono_at=mid)
        with self._lock:
            best = self._best()
            slack = sample.error + best.error + _SLACK if best is not None else _SLACK
            if best is not None and abs(sample.mono_offset - best.mono_offset) > slack:
                self._samples.clear()
            self._samples.append(sample)
        return sample

    def _best(self) -> OffsetSample | None:
        return min(self._samples, key=lambda s: s.round_trip, default=None)

    def best(self) -> OffsetSample | None:
        """The sample in use, or None before the first exchange."""
        with self._lock:
            return self._best()

    @property
    def offset(self) -> timedelta:
        """Server time minus local time; zero until a sample exists."""
        best = self.best()
        return best.offset if best is not None else timedelta(0)


class ServerClock:
    """The instant every screen agrees on: the server's time of the best sample carried
    forward on the monotonic clock; the local wall clock only before the first sample."""

    def __init__(self, clock: Clock, estimator: OffsetEstimator) -> None:
        self.clock = clock
        self.estimator = estimator

    def now(self) -> datetime:
        best = self.estimator.best()
        if best is None:
            return self.clock.wall()
        return best.server_time(self.clock.monotonic())

    def correction(self) -> timedelta:
        """Corrected minus local wall time: what a change log records to place a change on
        the local clock's timeline."""
        return self.now() - self.clock.wall()
