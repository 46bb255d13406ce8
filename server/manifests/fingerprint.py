"""What a manifest depends on, read in two small queries, so a poll is answered 304 without
compiling anything.

The ETag hashes: the protocol and document revision, the published content version, the
screen's target-set facts (id, organisation path, groups with their ancestors, tags, time
zone), its display profile, its local day, the horizon and poll interval, and its command
sequence (so a queued or acknowledged command changes the document).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from server import content_version
from server.config import Settings
from server.fleet.tokens import DeviceScreen
from server.media.profiles import Profile, profile_for
from server.scheduling.localtime import day_containing, day_start, zone

PROTOCOL: Final = 1
# Bumped when the compiled document changes shape or meaning for the same inputs, so an
# upgraded server never answers 304 for a document it would now compile differently.
REVISION: Final = 1

# Groups nest: a screen is in its groups and in every ancestor of them.
_GROUP_CLOSURE = text(
    """
    WITH RECURSIVE closure(id) AS (
        SELECT group_id FROM group_members WHERE screen_id = :screen_id
        UNION
        SELECT g.parent_id FROM groups g JOIN closure c ON g.id = c.id
        WHERE g.parent_id IS NOT NULL
    )
    SELECT id FROM closure
    """
)


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

    @property
    def etag(self) -> str:
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


def group_closure(session: Session, screen_id: int) -> tuple[int, ...]:
    rows = session.execute(_GROUP_CLOSURE, {"screen_id": screen_id}).scalars()
    return tuple(sorted(int(g) for g in rows if g is not None))


def fingerprint(
    session: Session,
    device: DeviceScreen,
    now: datetime,
    settings: Settings,
    profiles: tuple[Profile, ...],
    *,
    version: int | None = None,
) -> Fingerprint:
    """The screen's fingerprint now (two indexed reads: its groups and the content version)."""
    timezone = device.timezone
    try:
        tz = zone(timezone)
    except Exception:  # a zone that vanished from tzdata: the screen still plays, in UTC
        timezone, tz = "UTC", zone("UTC")
    return Fingerprint(
        version=content_version.current(session) if version is None else version,
        screen_id=device.id,
        org_path=device.org_path,
        groups=group_closure(session, device.id),
        tags=device.tags,
        timezone=timezone,
        profile=profile_for(device.width, device.height, profiles),
        day=day_containing(now, tz),
        horizon_days=horizon_days(settings),
        poll_interval_s=settings.poll_interval_s,
        command_seq=device.command_seq,
    )
