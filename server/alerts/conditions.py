"""What a screen's last report says against each kind of rule: holds, clear, or unknown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server.alerts.models import AlertKind, AlertRule


@dataclass(frozen=True)
class Observation:
    """`holds` None: cannot tell now (an offline screen's old report), leave things be."""

    holds: bool | None
    since: datetime | None = None  # when the condition began, if known (else: first seen)
    detail: str = ""


UNKNOWN = Observation(None)
CLEAR = Observation(False)


@dataclass(frozen=True)
class Expected:
    """What the schedule says the screen should be on now."""

    etag: str
    playlist: str | None  # the name of a playlist with items, None: the idle card


def offline(last_seen: datetime, online: bool, now: datetime, rule: AlertRule) -> Observation:
    if online:
        return CLEAR
    if now - last_seen >= timedelta(minutes=rule.minutes):
        return Observation(True, last_seen, f"last seen {last_seen:%Y-%m-%d %H:%M:%S} UTC")
    return UNKNOWN


def errors(status: Mapping[str, Any]) -> Observation:
    reported = status.get("errors")
    if isinstance(reported, list) and reported:
        shown = "; ".join(str(e)[:120] for e in reported[:3])
        more = f" (+{len(reported) - 3} more)" if len(reported) > 3 else ""
        return Observation(True, detail=(shown + more)[:400])
    return CLEAR


def storage(status: Mapping[str, Any], rule: AlertRule) -> Observation:
    shortage = _int(status.get("cache_shortage_bytes"))
    free = _int(status.get("disk_free_bytes"))
    if shortage > 0:
        return Observation(True, detail=f"the cache lacks {shortage} bytes for its content")
    if rule.min_free_bytes and "disk_free_bytes" in status and free < rule.min_free_bytes:
        return Observation(True, detail=f"{free} bytes free, under {rule.min_free_bytes}")
    return CLEAR


def mismatch(status: Mapping[str, Any], expected: Expected) -> Observation:
    held = status.get("manifest")
    if held != expected.etag:
        shown = str(held)[:32] if held else "none"
        return Observation(
            True, detail=f"it plays manifest {shown}, the schedule's is {expected.etag}"
        )
    if expected.playlist is not None and not status.get("asset"):
        return Observation(True, detail=f"it shows nothing while {expected.playlist!r} is due")
    return CLEAR


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


KINDS = tuple(AlertKind)
