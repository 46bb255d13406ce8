"""The manifests the player knows: the ACTIVE one (on screen, saved) and a PENDING newer one.

A new manifest becomes active only once the assets of its first hours (`lookahead`, 2 h by
default) are cached and verified, so a screen never trades a complete programme for a
half-downloaded one. It becomes active anyway when there is nothing better: no active
manifest, the active one past its horizon, or the missing assets known to be unobtainable
(refused by the server, failing verification, not fitting the cache).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from player.cache import Cache
from player.manifest import AssetRef, Manifest, ManifestStore, parse_manifest
from player.timeline import required_assets, upcoming_assets

log = logging.getLogger(__name__)

LOOKAHEAD = timedelta(hours=2)


@dataclass(frozen=True)
class Known:
    manifest: Manifest
    etag: str | None
    body: dict[str, Any]


class Library:
    def __init__(
        self,
        store: ManifestStore,
        cache: Cache,
        lookahead: timedelta = LOOKAHEAD,
        on_activate: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._cache = cache
        self.lookahead = lookahead
        self._on_activate = on_activate  # e.g. wake the playback loop: the screen may change
        self._lock = threading.RLock()
        self._active: Known | None = None
        self._pending: Known | None = None
        self._unavailable: set[str] = set()

    def load(self) -> Manifest | None:
        """Make the manifest saved by a previous run active; return it."""
        saved = self._store.load()
        with self._lock:
            self._active = Known(saved.manifest, saved.etag, saved.body) if saved else None
            return saved.manifest if saved else None

    @property
    def active(self) -> Manifest | None:
        with self._lock:
            return self._active.manifest if self._active else None

    @property
    def pending(self) -> Manifest | None:
        with self._lock:
            return self._pending.manifest if self._pending else None

    def known_etag(self) -> str | None:
        """What to send as If-None-Match: the newest manifest held, active or not."""
        with self._lock:
            newest = self._pending or self._active
            return newest.etag if newest else None

    def offer(self, body: dict[str, Any], etag: str | None, now: datetime) -> Manifest:
        """Take a manifest body from the server; `ManifestInvalid` if it is not one."""
        manifest = parse_manifest(body)
        with self._lock:
            if self._active and self._active.manifest.version == manifest.version:
                self._pending = None
            else:
                self._pending = Known(manifest, etag, body)
            self.try_activate(now)
        return manifest

    def missing_required(self, manifest: Manifest, now: datetime) -> set[str]:
        """Assets on screen within the lookahead that are not in the cache."""
        needed = required_assets(manifest, now, self.lookahead)
        return {sha for sha in needed if not self._cache.has(sha)}

    def try_activate(self, now: datetime) -> bool:
        """Promote the pending manifest if it is ready (or nothing better exists)."""
        with self._lock:
            pending = self._pending
            if pending is None:
                return False
            missing = self.missing_required(pending.manifest, now)
            ready = (
                not missing
                or self._active is None
                or now >= self._active.manifest.valid_until
                or missing <= self._unavailable
            )
            if not ready:
                return False
            if missing and self._active is not None:
                log.warning("activating manifest %s without %d assets", pending.etag, len(missing))
            try:
                self._store.save(pending.body, pending.etag)
            except OSError as exc:  # a full disk: play it all the same, it is just not kept
                log.warning("manifest %s not saved: %s", pending.manifest.version, exc)
            self._active, self._pending = pending, None
            log.info("manifest %s is active", pending.manifest.version)
        if self._on_activate is not None:
            self._on_activate()
        return True

    def mark_unavailable(self, sha: str) -> None:
        """The server will not give us this asset (404, bad bytes, no room)."""
        with self._lock:
            self._unavailable.add(sha)

    def mark_available(self, sha: str) -> None:
        with self._lock:
            self._unavailable.discard(sha)

    def protected(self, now: datetime) -> set[str]:
        """Assets the cache must not evict: those the active and pending manifests still show
        from `now` on. A poster of this morning's segment is in today's manifest all day, but
        nothing needs it any more; it may make room for this afternoon's."""
        with self._lock:
            manifests = [k.manifest for k in (self._active, self._pending) if k]
        return {sha for m in manifests for _, sha in upcoming_assets(m, now)}

    def wanted(self, now: datetime) -> list[AssetRef]:
        """Assets still to come and not cached, soonest first (pending and active manifests)."""
        with self._lock:
            manifests = [k.manifest for k in (self._pending, self._active) if k]
        first: dict[str, tuple[datetime, AssetRef]] = {}
        for manifest in manifests:
            for when, sha in upcoming_assets(manifest, now):
                if self._cache.has(sha) or (sha in first and first[sha][0] <= when):
                    continue
                first[sha] = (when, manifest.assets[sha])
        return [ref for _, ref in sorted(first.values(), key=lambda p: p[0])]

    def forget(self) -> None:
        """Drop every manifest, on disk too (the device was revoked)."""
        with self._lock:
            self._active = self._pending = None
            self._store.clear()
