"""Fault injection: TESTS ONLY. Named points where the process kills itself (SIGKILL).

The reliability tests (tests/reliability/, docs/reliability.md) set `SIGNAGE_FAULTS` to a
comma-separated list of point names to kill a real server at the worst moment: after the
bytes are written and before the row that names them is committed. Unset (the default),
`point()` is one test of an empty set.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from typing import Final

# Every point there is, where it is, and what a kill there leaves behind.
POINTS: Final = {
    "after-store-put": "an upload's bytes (and thumbnail) are in the store; its rows are "
    "not committed",
    "before-publish-commit": "a publication is flushed in the transaction; not committed",
    "before-heartbeat-flush": "a process has taken its buffered heartbeats; not written",
}

_armed: frozenset[str] = frozenset()


def arm(names: Iterable[str]) -> None:
    """Kill the process at these points from now on (an empty list disarms every one)."""
    global _armed
    names = frozenset(names)
    unknown = names - POINTS.keys()
    if unknown:
        raise ValueError(f"unknown fault points: {', '.join(sorted(unknown))}")
    _armed = names


def point(name: str) -> None:
    """A place where a test may kill the process; nothing at all unless armed."""
    if name in _armed:
        os.kill(os.getpid(), signal.SIGKILL)
