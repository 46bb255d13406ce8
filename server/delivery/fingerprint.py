"""What a manifest depends on, known from the device lookup alone, so a poll is answered 304
without compiling anything (and without another read).

The ETag hashes: the protocol and document revision, the published content version, the
screen's target-set facts (id, organisation path, groups with their ancestors, tags, time
zone), its display profile, its local day, the horizon and poll interval, and its command
sequence (so a queued or acknowledged command changes the document).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final

from server.config import Settings
from server.media.profiles import Profile, profile_for
from server.scheduling.localtime import day_containing, day_start, zone
from server.screens.devices import DeviceScreen

# The protocol's version (docs/player-protocol.md): 2 since device keys. Hashed into every
# ETag, so each player downloads its manifest once after an upgrade.
PROTOCOL: Final = 2
# The manifest document's `protocol` field: the version that gave the document its shape.
# Version 2 changed hello and pairing only, and version-1 players refuse any other value,
# so it stays 1 until the document itself changes.
DOCUMENT: Final = 1
# Bumped when the compiled document changes shape or meaning for the same inputs, so an
# upgraded server never answers 304 for a document it would now compile differently.
REVISION: Final = 1


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Everything the document for one screen on one day depends on."""

    version: int
    screen_id: int
    org_path: str
    groups: tuple[int, ...]
    tags: tuple[str, ...]
    timezone: str
    profile: Profile
    day: date
    horizon_days: int
    poll_interval_s: int
    command_seq: int
    etag: str = field(default="", compare=False)  # filled in by __post_init__

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", self._hash())

    def _hash(self) -> str:
        """The document's ETag value (unquoted): a hash of every input."""
        parts = (
            f"p{PROTOCOL}r{REVISION}",
            str(self.version),
            str(self.screen_id),
            self.org_path,
            ",".join(map(str, self.groups)),
            ",".join(self.tags),
            self.timezone,
            str(self.profile),
            self.day.isoformat(),
            str(self.horizon_days),
            str(self.poll_interval_s),
            str(self.command_seq),
        )
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]

    def with_version(self, version: int) -> Fingerprint:
        return replace(self, version=version)


def horizon_days(settings: Settings) -> int:
    return max(1, math.ceil(settings.manifest_horizon_h / 24))


def window(timezone: str, day: date, days: int) -> tuple[datetime, datetime]:
    """[local midnight of `day`, local midnight `days` later) in UTC."""
    tz = zone(timezone)
    return day_start(day, tz), day_start(day + timedelta(days=days), tz)


# The local day now, per zone: (zone, day, [its start, its end)) — a poll in the same day
# only compares two instants instead of converting its clock into the zone.
_today: dict[str, tuple[date, datetime, datetime]] = {}


def local_day(timezone: str, now: datetime) -> tuple[str, date]:
    """The zone actually used (UTC for one tzdata no longer knows) and its day at `now`."""
    known = _today.get(timezone)
    if known is not None and known[1] <= now < known[2]:
        return timezone, known[0]
    try:
        tz = zone(timezone)
    except Exception:  # a zone that vanished from tzdata: the screen still plays, in UTC
        return local_day("UTC", now)
    day = day_containing(now, tz)
    _today[timezone] = (day, day_start(day, tz), day_start(day + timedelta(days=1), tz))
    return timezone, day


@lru_cache(maxsize=256)
def _profile(width: int, height: int, profiles: tuple[Profile, ...]) -> Profile:
    return profile_for(width, height, profiles)


def fingerprint(
    device: DeviceScreen,
    version: int,
    now: datetime,
    settings: Settings,
    profiles: tuple[Profile, ...],
) -> Fingerprint:
    """The screen's fingerprint now: no I/O, everything came with the device lookup."""
    timezone, day = local_day(device.timezone, now)
    return Fingerprint(
        version=version,
        screen_id=device.id,
        org_path=device.org_path,
        groups=device.groups,
        tags=device.tags,
        timezone=timezone,
        profile=_profile(device.width, device.height, profiles),
        day=day,
        horizon_days=horizon_days(settings),
        poll_interval_s=settings.poll_interval_s,
        command_seq=device.command_seq,
    )
