"""Rotation through a playlist, aligned to wall-clock time (no state, O(log n) per lookup).

For a segment anchored at `a` whose items last `d1…dn` (cycle `C = Σd`), the item on
screen at `t` is the one whose cumulative span contains `(t − a) mod C`; it ends at the
end of that span. Instants before the anchor work the same way, through the modulo.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate

from server.scheduling.errors import InvalidSchedule

_MICROSECOND = timedelta(microseconds=1)


class Rotation:
    """A playlist's item durations, summed once so each lookup is a bisection."""

    __slots__ = ("_ends", "cycle_us")

    def __init__(self, durations_ms: Sequence[int]) -> None:
        if not durations_ms:
            raise InvalidSchedule("durations_ms", "a rotation needs at least one item")
        for i, d in enumerate(durations_ms):
            if isinstance(d, bool) or not isinstance(d, int) or d <= 0:
                reason = f"must be a positive integer, got {d!r}"
                raise InvalidSchedule(f"durations_ms[{i}]", reason)
        # Cumulative end of each item within the cycle, in microseconds.
        self._ends = list(accumulate(d * 1000 for d in durations_ms))
        self.cycle_us = self._ends[-1]

    def item_at(self, anchor: datetime, at: datetime) -> tuple[int, datetime]:
        """Index of the item on screen at `at`, and the UTC instant that item ends."""
        position = _micros(_utc(at, "at") - _utc(anchor, "anchor")) % self.cycle_us
        index = bisect_right(self._ends, position)
        return index, _utc(at, "at") + (self._ends[index] - position) * _MICROSECOND

    def items(
        self, anchor: datetime, start: datetime, end: datetime
    ) -> Iterator[tuple[int, datetime, datetime]]:
        """Each (index, from, until) on screen over [start, end), clipped to it."""
        t, stop = _utc(start, "start"), _utc(end, "end")
        while t < stop:
            index, item_end = self.item_at(anchor, t)
            yield index, t, min(item_end, stop)
            t = item_end


def item_at(anchor: datetime, durations_ms: Sequence[int], at: datetime) -> tuple[int, datetime]:
    """Index of the item on screen at `at` for a rotation anchored at `anchor`, and its end."""
    return Rotation(durations_ms).item_at(anchor, at)


def _micros(delta: timedelta) -> int:
    return delta // _MICROSECOND


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidSchedule(field, "must be timezone-aware")
    # Subtracting two datetimes that share a tzinfo ignores their offsets; UTC avoids that.
    return value.astimezone(UTC)
