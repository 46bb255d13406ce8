"""Per-process caches for manifests: the published content of the current version, and the
compiled shared parts. Both are keyed by the content version, so a publish invalidates
them by moving on; losing them costs a recompile, never a wrong answer."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime

from sqlalchemy.orm import Session

from server.campaigns.publications import PublishedContent, load_published
from server.scheduling import Schedule

DEFAULT_MAX_PARTS = 4096


class ManifestCache:
    def __init__(self, max_parts: int = DEFAULT_MAX_PARTS) -> None:
        self.max_parts = max_parts
        self._lock = threading.Lock()
        self._content: tuple[PublishedContent, Schedule] | None = None
        self._parts: OrderedDict[Hashable, str] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        self._shas: tuple[int, frozenset[str]] | None = None
        self.loads = 0  # how often published content was read (for tests and metrics)
        self.compiles = 0  # how often a shared part was compiled

    def content(
        self, session: Session, version: int, now: datetime
    ) -> tuple[PublishedContent, Schedule]:
        """The published content at `version` (or newer, if it moved on while loading)."""
        cached = self._content
        if cached is not None and cached[0].version == version:
            return cached
        with self._lock:
            cached = self._content
            if cached is not None and cached[0].version == version:
                return cached
            content = load_published(session, now)
            loaded = (content, Schedule(content.rules))
            self.loads += 1
            if cached is None or content.version != cached[0].version:
                self._parts.clear()  # parts of an older version can never be asked for again
            self._content = loaded
            return loaded

    def published_shas(self, content: PublishedContent) -> frozenset[str]:
        """Hashes of every asset some published playlist uses (for the media route)."""
        found = self._shas
        if found is not None and found[0] == content.version:
            return found[1]
        shas = frozenset(
            item.sha256 for playlist in content.playlists.values() for item in playlist.items
        )
        self._shas = (content.version, shas)
        return shas

    def part(self, key: Hashable, build: Callable[[], str]) -> str:
        """The compiled part for `key`, built once even when many polls ask at once."""
        found = self._parts.get(key)
        if found is not None:
            return found
        with self._lock:
            lock = self._building.setdefault(key, threading.Lock())
        with lock:
            found = self._parts.get(key)
            if found is None:
                found = build()
                self.compiles += 1
                with self._lock:
                    self._parts[key] = found
                    while len(self._parts) > self.max_parts:
                        self._parts.popitem(last=False)
            with self._lock:
                self._building.pop(key, None)
        return found

    def clear(self) -> None:
        with self._lock:
            self._content = None
            self._parts.clear()
