"""The download side of the agent: missing assets, soonest on screen first, one per step.

A transfer that breaks keeps its `.part` and resumes later; bytes that do not verify, an
asset the server refuses, or one that does not fit are set aside for a while and reported,
and count as unobtainable for activating a new manifest.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

from player.cache import Cache
from player.client import Backoff
from player.clock import Clock, ServerClock
from player.errors import CacheFull, IntegrityError, PlayerError, ServerRefused
from player.library import Library
from player.manifest import AssetRef
from player.protocol import MediaSource
from player.state import SharedState

log = logging.getLogger(__name__)

IDLE_S = 1.0  # a new manifest may arrive any moment: look again this often (cheap)
REFUSED_RETRY_S = 600.0
NO_ROOM_RETRY_S = 300.0
INTEGRITY_STRIKES = 2  # a second bad download of the same asset: stop counting on it


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
        self._backoff = Backoff(rng=rng)
        self._retry_at: dict[str, float] = {}
        self._strikes: dict[str, int] = {}
        self._no_room: set[str] = set()
        self._paused_until = clock.monotonic()

    def step(self) -> float:
        """Download at most one asset; return seconds until the next step is worth it."""
        mono = self._clock.monotonic()
        now = self._server_clock.now()
        self._library.try_activate(now)
        if mono < self._paused_until:
            return self._paused_until - mono
        wanted = self._library.wanted(now)
        self._state.cache_shortage_bytes = sum(r.size for r in wanted if r.sha256 in self._no_room)
        waits = [IDLE_S]
        for ref in wanted:
            retry_at = self._retry_at.get(ref.sha256, mono)
            if retry_at > mono:
                waits.append(retry_at - mono)
                continue
            self._fetch_one(ref, mono)
            return 0.0
        return min(waits)

    def _progress(self, _received: int) -> None:
        if self._beat is not None:
            self._beat()

    def _fetch_one(self, ref: AssetRef, mono: float) -> None:
        sha = ref.sha256
        try:
            self._cache.fetch(ref, self._source, self._library.protected(), self._progress)
        except CacheFull as exc:
            self._no_room.add(sha)
            self._set_aside(sha, mono + NO_ROOM_RETRY_S, f"no room for asset {sha[:12]}: {exc}")
        except IntegrityError as exc:
            strikes = self._strikes[sha] = self._strikes.get(sha, 0) + 1
            unobtainable = strikes >= INTEGRITY_STRIKES
            delay = REFUSED_RETRY_S if unobtainable else 0.0
            self._set_aside(sha, mono + delay, str(exc), unobtainable=unobtainable)
        except ServerRefused as exc:
            if exc.status in (429,) or exc.status >= 500:
                self._paused_until = mono + self._backoff.next_delay(exc.retry_after)
                return
            self._set_aside(sha, mono + REFUSED_RETRY_S, f"asset {sha[:12]} refused: {exc}")
        except (PlayerError, OSError) as exc:
            self._paused_until = mono + self._backoff.next_delay()
            log.info("download of %s interrupted (%s)", sha[:12], exc)
        else:
            self._backoff.reset()
            self._retry_at.pop(sha, None)
            self._strikes.pop(sha, None)
            self._no_room.discard(sha)
            self._library.mark_available(sha)
            self._library.try_activate(self._server_clock.now())
            log.info("asset %s cached", sha[:12])

    def _set_aside(self, sha: str, until: float, why: str, unobtainable: bool = True) -> None:
        self._retry_at[sha] = until
        if unobtainable:
            self._library.mark_unavailable(sha)
            self._library.try_activate(self._server_clock.now())
        self._report(why)
