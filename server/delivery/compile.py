"""The manifest document: deterministic bytes from published content and one screen's facts.

The part shared by every screen of a target set (zone, window, segments, assets) is
compiled once per content version, target set, profile and day; `assemble` wraps it
with what is the screen's own (its version string and pending commands).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.assets.models import Asset
from server.assets.variants import DeliveredAsset, deliver
from server.campaigns.publications import PlaylistContent, PublishedContent
from server.delivery.fingerprint import DOCUMENT, Fingerprint, window
from server.errors import KnownError
from server.media.images import DEFAULT_MAX_PIXELS
from server.media.profiles import Profile
from server.media.store import MediaStore
from server.playlists.models import FITS, TRANSITIONS
from server.scheduling import Schedule, ScreenFacts, Segment
from server.screens.models import Command

log = logging.getLogger(__name__)


def rfc3339(instant: datetime) -> str:
    """UTC, millisecond precision, `Z` suffix: the protocol's one instant format."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Deliveries:
    """Each asset delivered once per compile, in the screen's profile and the item's fit."""

    def __init__(
        self,
        session: Session,
        store: MediaStore,
        profile: Profile,
        profiles: Sequence[Profile],
        now: datetime,
        max_pixels: int,
    ) -> None:
        self.session, self.store, self.profile = session, store, profile
        self.profiles, self.now, self.max_pixels = profiles, now, max_pixels
        self.assets: dict[str, DeliveredAsset] = {}
        self._done: dict[tuple[int, str], DeliveredAsset | None] = {}
        self._rows: dict[int, Asset | None] = {}

    def preload(self, asset_ids: set[int]) -> None:
        if asset_ids:
            rows = self.session.scalars(select(Asset).where(Asset.id.in_(sorted(asset_ids))))
            self._rows.update({a.id: a for a in rows})

    def get(self, asset_id: int, fit: str) -> DeliveredAsset | None:
        key = (asset_id, fit)
        if key not in self._done:
            self._done[key] = self._deliver(asset_id, fit)
        found = self._done[key]
        if found is not None:
            self.assets[found.sha256] = found
        return found

    def _deliver(self, asset_id: int, fit: str) -> DeliveredAsset | None:
        asset = self._rows.get(asset_id)
        if asset is None:
            log.warning("manifest: asset %s is gone; its items are left out", asset_id)
            return None
        try:
            return deliver(
                self.session,
                self.store,
                asset,
                self.profile.width,
                self.profile.height,
                fit,
                profiles=self.profiles,
                now=self.now,
                max_pixels=self.max_pixels,
            )
        except KnownError as exc:
            # One bad poster must not take the whole manifest (and so the screen) down.
            log.warning("manifest: asset %s cannot be delivered: %s", asset_id, exc.detail)
            return None


def _segment(
    segment: Segment, playlist: PlaylistContent | None, deliveries: _Deliveries
) -> dict[str, Any]:
    items = []
    if playlist is not None:
        for item in playlist.items:
            fit = item.fit if item.fit in FITS else "contain"
            delivered = deliveries.get(item.asset_id, fit)
            if delivered is None or item.duration_ms <= 0:
                continue
            items.append(
                {
                    "asset": delivered.sha256,
                    "duration_ms": item.duration_ms,
                    "fit": fit,
                    "transition": item.transition if item.transition in TRANSITIONS else "cut",
                }
            )
    playing = playlist is not None and bool(items)
    return {
        "start": rfc3339(segment.start),
        "end": rfc3339(segment.end),
        "anchor": rfc3339(segment.anchor),
        "playlist": playlist.name if playing and playlist else None,
        "campaign": playlist.campaign if playing and playlist else None,
        "items": items,
    }


def _merged(segments: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join neighbours that play the same thing from the same anchor (the engine splits
    where a beaten rule starts or ends underneath, which a player need not know)."""
    out: list[dict[str, Any]] = []
    for segment in segments:
        last = out[-1] if out else None
        if last is not None and all(
            last[k] == segment[k] for k in ("anchor", "playlist", "campaign", "items")
        ):
            last["end"] = segment["end"]
        else:
            out.append(segment)
    return out


def compile_part(
    session: Session,
    store: MediaStore,
    content: PublishedContent,
    schedule: Schedule,
    facts: ScreenFacts,
    fp: Fingerprint,
    profiles: Sequence[Profile],
    now: datetime,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> str:
    """The shared middle of the document, as JSON members without the surrounding braces.

    `max_pixels` should be the server's setting: what uploads accepted must also render.
    """
    valid_from, valid_until = window(fp.timezone, fp.day, fp.horizon_days)
    segments = schedule.timeline(facts, valid_from, valid_until)
    deliveries = _Deliveries(session, store, fp.profile, profiles, now, max_pixels)
    deliveries.preload(
        {
            item.asset_id
            for s in segments
            if s.playlist and s.playlist in content.playlists
            for item in content.playlists[s.playlist].items
        }
    )
    out_segments = _merged(
        _segment(s, content.playlists.get(s.playlist) if s.playlist else None, deliveries)
        for s in segments
    )
    assets = {
        sha: {
            "url": d.url,
            "media_type": d.media_type,
            "size": d.size,
            "width": d.width,
            "height": d.height,
        }
        for sha, d in sorted(deliveries.assets.items())
    }
    members: Mapping[str, Any] = {
        "timezone": fp.timezone,
        "valid_from": rfc3339(valid_from),
        "valid_until": rfc3339(valid_until),
        "poll_interval_s": fp.poll_interval_s,
        "segments": out_segments,
        "assets": assets,
    }
    return _dumps(members)[1:-1]


def commands_json(commands: Sequence[Command]) -> str:
    return _dumps(
        [{"id": c.id, "kind": c.kind, "issued_at": rfc3339(c.issued_at)} for c in commands]
    )


def assemble(etag: str, part: str, commands: str) -> bytes:
    """The whole document: protocol, version (= the ETag), the shared part, the commands."""
    head = _dumps({"protocol": DOCUMENT, "version": etag})[:-1]
    return f'{head},{part},"commands":{commands}}}'.encode()
