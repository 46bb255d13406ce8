"""The screen side of the agent: timeline ▸ frame ▸ display, and proof of play into the journal.

`Playback.step()` shows what the timeline says for the corrected now, readies the next frame,
and returns the seconds until the next change; it never touches the network.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from player.cache import Cache
from player.clock import ServerClock, iso_ms
from player.display import Display, Frame
from player.display.render import decode_asset, encode_screenshot
from player.errors import AssetUndecodable
from player.journal import Journal
from player.library import Library
from player.manifest import Fit, Manifest, Transition
from player.state import SharedState
from player.timeline import Slot, now_playing

log = logging.getLogger(__name__)

MAX_PLAY = timedelta(hours=24)  # the server refuses longer events; split them
# A newly activated manifest or a newly cached asset may change the answer before the next
# scheduled change: look again at least this often (it costs one bisect).
RECHECK_S = 1.0
# An undecodable asset stays in the status while it is scheduled: queued again this often
# (a no-op while the previous report is still waiting to be delivered).
REMIND_S = 60.0


class FrameSource:
    """Frames for assets and cards at the display's size, remembering the last few."""

    def __init__(
        self,
        cache: Cache,
        size: tuple[int, int],
        *,
        server: str,
        name: str | None = None,
        font_path: str | None = None,
        keep: int = 2,  # the frame on screen and the next one: 6 MB each at full HD
    ) -> None:
        self._cache = cache
        self.size = size
        self._server = server
        self._name = name
        self._font = font_path
        self._keep = keep
        self._frames: OrderedDict[tuple[Any, ...], Frame] = OrderedDict()

    def _remember(self, key: tuple[Any, ...], make: Callable[[], Frame]) -> Frame:
        frame = self._frames.get(key)
        if frame is None:
            # Make room first: the oldest frame goes before the new one is decoded, so that
            # there are never more than `keep` in memory, even for a moment.
            while len(self._frames) >= self._keep:
                self._frames.popitem(last=False)
            frame = make()
            self._frames[key] = frame
        self._frames.move_to_end(key)
        return frame

    def asset(self, sha: str, fit: Fit, playlist: str | None) -> Frame:
        """The asset decoded and fitted; `AssetUndecodable` if it cannot be."""
        return self._remember(
            ("asset", sha, fit, playlist),
            lambda: Frame(decode_asset(self._cache.path(sha), self.size, fit), sha, playlist),
        )

    # The cards module (text drawing, fonts) is imported when a card is first drawn: a
    # screen that starts on its cached programme never needs it.

    def pairing(self, code: str | None) -> Frame:
        def draw() -> Frame:
            from player.display import cards

            image = cards.pairing_card(
                self.size, code=code, server=self._server, name=self._name, font_path=self._font
            )
            return Frame(image, cards.PAIRING_NAME)

        return self._remember(("pairing", code), draw)

    def idle(self, detail: str | None, playlist: str | None = None) -> Frame:
        def draw() -> Frame:
            from player.display import cards

            image = cards.idle_card(self.size, name=self._name, detail=detail, font_path=self._font)
            return Frame(image, cards.IDLE_NAME, playlist)

        return self._remember(("idle", detail, playlist), draw)


@dataclass
class _Play:
    asset: str
    playlist: str | None
    campaign: str | None
    start: datetime
    occurrence: tuple[int, int, int]


class Playback:
    def __init__(
        self,
        *,
        display: Display,
        frames: FrameSource,
        library: Library,
        cache: Cache,
        journal: Journal,
        state: SharedState,
        clock: ServerClock,
        report: Callable[[str], None],
    ) -> None:
        self._display = display
        self._frames = frames
        self._library = library
        self._cache = cache
        self._journal = journal
        self._state = state
        self._clock = clock
        self._report = report
        self._shown: tuple[Any, ...] | None = None
        self._play: _Play | None = None
        self._prepared_for: datetime | None = None
        self._manifest: Manifest | None = None
        self.undecodable: dict[str, str] = {}  # sha ▸ the problem, as reported
        self._reminded: dict[str, float] = {}

    def displayable(self, sha: str) -> bool:
        """Cached, an image, and not known to be undecodable."""
        if sha in self.undecodable:
            self._remind(sha)
            return False
        if not self._cache.has(sha):
            return False
        ref = self._manifest.assets.get(sha) if self._manifest else None
        if ref is not None and not ref.media_type.startswith("image/"):
            self._undecodable(sha, f"media type {ref.media_type} is not supported")
            return False
        return True

    def _undecodable(self, sha: str, why: str) -> None:
        message = self.undecodable[sha] = f"asset {sha[:12]} undecodable: {why}"
        self._reminded[sha] = self._clock.clock.monotonic()
        self._report(message)

    def _remind(self, sha: str) -> None:
        mono = self._clock.clock.monotonic()
        if mono - self._reminded.get(sha, mono) >= REMIND_S:
            self._reminded[sha] = mono
            self._journal.append_error(self.undecodable[sha])

    def step(self) -> float:
        """Bring the screen up to date; return seconds until it should be looked at again
        (the next change, or `RECHECK_S` if that comes first)."""
        now = self._clock.now()
        if self._state.screenshot_wanted():
            self._state.deliver_screenshot(encode_screenshot(self._display.snapshot()))
        manifest = self._manifest = self._library.active
        if self._state.device is None:  # unpaired: whatever is saved, the code must be seen
            self._end_play(now)
            code = self._state.pairing.code if self._state.pairing else None
            self._put(("pairing", code), self._frames.pairing(code), "cut", now)
            return RECHECK_S
        if manifest is None:
            self._end_play(now)
            self._put(("idle", "waiting"), self._frames.idle("Waiting for content"), "cut", now)
            return RECHECK_S
        slot, frame = self._resolve(manifest, now)
        if slot.item is None:
            self._end_play(now)
            self._put(("idle", slot.playlist), frame, "cut", now)
        else:
            self._track_play(slot, now)
            key = ("asset", slot.item.asset, slot.item.fit, slot.playlist)
            self._put(key, frame, slot.item.transition, now)
            self._cache.touch(slot.item.asset)
        self._prepare_next(manifest, slot)
        if slot.end is None:
            return RECHECK_S
        # Measured after the work above (a frame written, the next one decoded), so that the
        # wake-up lands on the boundary rather than that much after it.
        return max(0.0, min(RECHECK_S, (slot.end - self._clock.now()).total_seconds()))

    def _resolve(self, manifest: Manifest, now: datetime) -> tuple[Slot, Frame]:
        """The slot and its frame, skipping items that turn out undecodable."""
        while True:
            slot = now_playing(manifest, now, self.displayable)
            if slot.item is None:
                detail = "Nothing scheduled" if slot.playlist is None else "Nothing to show yet"
                return slot, self._frames.idle(detail, slot.playlist)
            frame = self._frame(slot.item.asset, slot.item.fit, slot.playlist)
            if frame is not None:
                return slot, frame

    def _frame(self, sha: str, fit: Fit, playlist: str | None) -> Frame | None:
        if not self._cache.path(sha).exists():
            log.warning("asset %s vanished from the cache", sha)
            self._cache.discard(sha)
            return None
        try:
            return self._frames.asset(sha, fit, playlist)
        except AssetUndecodable as exc:
            self._undecodable(sha, str(exc))
            return None

    def _put(
        self, key: tuple[Any, ...], frame: Frame, transition: Transition, now: datetime
    ) -> None:
        if key == self._shown:
            return
        self._display.show(frame, transition, now)
        self._shown = key
        asset = frame.name if not frame.name.startswith("card:") else None
        self._state.on_screen = (asset, frame.playlist)

    def _prepare_next(self, manifest: Manifest, slot: Slot) -> None:
        if slot.end is None or slot.end == self._prepared_for:
            return
        self._prepared_for = slot.end
        following = now_playing(manifest, slot.end, self.displayable)
        if following.item is not None:
            frame = self._frame(following.item.asset, following.item.fit, following.playlist)
            if frame is not None:
                self._display.prepare(frame)

    def _track_play(self, slot: Slot, now: datetime) -> None:
        assert slot.item is not None and slot.occurrence is not None
        play = self._play
        if play is not None and play.occurrence == slot.occurrence:
            if now - play.start < MAX_PLAY:
                return
        self._end_play(now)
        self._play = _Play(slot.item.asset, slot.playlist, slot.campaign, now, slot.occurrence)

    def _end_play(self, now: datetime) -> None:
        """Close the current play, if any, into the journal."""
        play, self._play = self._play, None
        if play is None:
            return
        end = max(now, play.start)
        self._journal.append(
            "play",
            {
                "id": str(uuid.uuid4()),
                "asset": play.asset,
                "playlist": play.playlist,
                "campaign": play.campaign,
                "start": iso_ms(play.start),
                "end": iso_ms(end),
            },
        )

    def close(self) -> None:
        """Record what is on screen as played until now (at shutdown)."""
        self._end_play(self._clock.now())
