"""The download side of the agent: missing assets, soonest on screen first, one per step.

A transfer that breaks keeps its `.part` and resumes later; bytes that do not verify, an
asset the server refuses, or one that does not fit are set aside for a while and reported,
and count as unobtainable for activating a new manifest.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime

from player.cache import Cache
from player.client import Backoff
from player.clock import Clock, ServerClock
from player.errors import CacheFull, IntegrityError, PlayerError, ServerRefused
from player.library import Library
from player.manifest import AssetRef
from player.protocol import MediaSource
from player.state import SharedState
from player.status import disk_free

log = logging.getLogger(__name__)

IDLE_S = 1.0  # a new manifest may arrive any moment: look again this often (cheap)
REFUSED_RETRY_S = 600.0
NO_ROOM_RETRY_S = 300.0
DISK_SPARE_BYTES = 64 * 1024  # to spare before a download a full disk refused is retried
INTEGRITY_STRIKES = 2  # a second bad download of the same asset: stop counting on it
INTEGRITY_RETRY_S = 2.0  # first retry of bad bytes after 1-2 s, then doubling


class Fetcher:
    def __init__(
        self,
        *,
        source: MediaSource,
        library: Library,
        cache: Cache,
        state: SharedState,
        clock: Clock,
        server_clock: ServerClock,
        report: Callable[[str], None],
        beat: Callable[[], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._source = source
        self._library = library
        self._cache = cache
        self._state = state
        self._clock = clock
        self._server_clock = server_clock
        self._report = report
        self._beat = beat
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._backoff = Backoff(rng=self._rng)
        self._retry_at: dict[str, float] = {}
        self._strikes: dict[str, int] = {}
        self._no_room: set[str] = set()
        # Of those, the ones the quota kept out, and the ones a full disk kept out, and when.
        self._over_quota: dict[str, float] = {}
        self._disk_full: dict[str, float] = {}
        self._paused_until = clock.monotonic()
        self._paused_at_answer: int | None = None

    def _paused(self, mono: float) -> bool:
        """Backing off after a failed transfer, unless a poll has reached the server since."""
        if mono >= self._paused_until:
            return False
        return self._paused_at_answer is None or self._state.answers == self._paused_at_answer

    def _pause(self, mono: float, retry_after: float | None = None) -> None:
        self._paused_until = mono + self._backoff.next_delay(retry_after)
        # A poll that gets through lifts the pause (the server is back), unless the server
        # itself asked for quiet with a Retry-After.
        self._paused_at_answer = None if retry_after else self._state.answers

    def step(self) -> float:
        """Download at most one asset; return seconds until the next step is worth it."""
        mono = self._clock.monotonic()
        now = self._server_clock.now()
        self._library.try_activate(now)
        if self._paused(mono):
            return min(IDLE_S, self._paused_until - mono)
        wanted = self._library.wanted(now)
        self._state.cache_shortage_bytes = sum(r.size for r in wanted if r.sha256 in self._no_room)
        protected: set[str] | None = None
        waits = [IDLE_S]
        for ref in wanted:
            retry_at = self._retry_at.get(ref.sha256, mono)
            refused_at = self._over_quota.get(ref.sha256)
            if retry_at > mono and refused_at is not None and mono - refused_at >= IDLE_S:
                # Room may have appeared (an asset no longer needed): try again now.
                protected = self._library.protected(now) if protected is None else protected
                if self._cache.fits(ref.size - self._cache.part_bytes(ref.sha256), protected):
                    retry_at = mono
            full_at = self._disk_full.get(ref.sha256)
            if retry_at > mono and full_at is not None and mono - full_at >= IDLE_S:
                # The disk may have been cleared: try again as soon as the bytes would fit.
                if disk_free(self._cache.directory) > ref.size + DISK_SPARE_BYTES:
                    retry_at = mono
            if retry_at > mono:
                waits.append(retry_at - mono)
                continue
            self._fetch_one(ref, mono, now)
            return 0.0
        return min(waits)

    def _progress(self, _received: int) -> None:
        if self._beat is not None:
            self._beat()

    def _fetch_one(self, ref: AssetRef, mono: float, now: datetime) -> None:
        sha = ref.sha256
        try:
            self._cache.fetch(ref, self._source, self._library.protected(now), self._progress)
        except CacheFull as exc:
            self._no_room.add(sha)
            if exc.disk:
                self._disk_full[sha] = mono
            else:
                self._over_quota[sha] = mono
            self._set_aside(sha, mono + NO_ROOM_RETRY_S, f"no room for asset {sha[:12]}: {exc}")
        except IntegrityError as exc:
            strikes = self._strikes[sha] = self._strikes.get(sha, 0) + 1
            # Bad bytes again and again (a broken proxy, a damaged store): back off, doubling.
            ceiling = min(REFUSED_RETRY_S, INTEGRITY_RETRY_S * 2.0 ** (strikes - 1))
            delay = self._rng.uniform(ceiling / 2, ceiling)
            unobtainable = strikes >= INTEGRITY_STRIKES
            self._set_aside(sha, mono + delay, str(exc), unobtainable=unobtainable)
        except ServerRefused as exc:
            if exc.status in (429,) or exc.status >= 500:
                self._pause(mono, exc.retry_after)
                return
            self._set_aside(sha, mono + REFUSED_RETRY_S, f"asset {sha[:12]} refused: {exc}")
        except (PlayerError, OSError) as exc:
            self._pause(mono)
            log.info("download of %s interrupted (%s)", sha[:12], exc)
        else:
            self._backoff.reset()
            self._retry_at.pop(sha, None)
            self._strikes.pop(sha, None)
            self._no_room.discard(sha)
            self._over_quota.pop(sha, None)
            self._disk_full.pop(sha, None)
            self._library.mark_available(sha)
            self._library.try_activate(self._server_clock.now())
            self._state.woken.set()  # an item waiting for this asset can be shown now
            log.info("asset %s cached", sha[:12])

    def _set_aside(self, sha: str, until: float, why: str, unobtainable: bool = True) -> None:
        self._retry_at[sha] = until
        if unobtainable:
            self._library.mark_unavailable(sha)
            self._library.try_activate(self._server_clock.now())
        self._report(why)
