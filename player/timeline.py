"""Pure: (manifest, corrected now) ▸ what to show now and when that changes.

Rotation (protocol §2): in a segment with anchor `a` and cycle `C = Σd`, the item at `t` is the
one whose cumulative span contains `(t − a) mod C`. Past `valid_until` the last segment goes on;
before `valid_from` the first one applies. An item the display cannot show (not cached, not
decodable) is skipped by keeping the previous displayable item on screen, so the players that
can show everything still flip exactly on the boundaries; a playlist with nothing displayable
shows the idle card. All arithmetic is in integer milliseconds.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from player.clock import from_ms, to_ms
from player.manifest import Item, Manifest

Displayable = Callable[[str], bool]


def _always(_sha: str) -> bool:
    return True


@dataclass(frozen=True)
class Slot:
    """What is on screen from `start` until `end` (None: until the manifest changes).

    `item` is None for the idle card. `occurrence` = (segment, cycle, item index) identifies
    one play of an item: it changes at every span boundary, even when the asset stays.
    """

    segment: int
    item_index: int | None
    item: Item | None
    playlist: str | None
    campaign: str | None
    start: datetime
    end: datetime | None
    occurrence: tuple[int, int, int] | None

    @property
    def asset(self) -> str | None:
        return self.item.asset if self.item is not None else None


def segment_index(manifest: Manifest, t_ms: int) -> int:
    """The segment in force at `t_ms` (the first before it starts, the last after it ends)."""
    starts = [s.start_ms for s in manifest.segments]
    return min(max(bisect_right(starts, t_ms) - 1, 0), len(starts) - 1)


def _segment_end(manifest: Manifest, index: int) -> int | None:
    return None if index == len(manifest.segments) - 1 else manifest.segments[index].end_ms


def _cap(t: int, end: int | None) -> int:
    return t if end is None else min(t, end)


def now_playing(manifest: Manifest, now: datetime, displayable: Displayable = _always) -> Slot:
    """The slot on screen at corrected instant `now`."""
    t = to_ms(now)
    index = segment_index(manifest, t)
    seg = manifest.segments[index]
    seg_end = _segment_end(manifest, index)
    shown = [displayable(it.asset) for it in seg.items]
    if not any(shown):
        start = seg.start_ms if t >= seg.start_ms else t
        return Slot(
            segment=index,
            item_index=None,
            item=None,
            playlist=seg.playlist,
            campaign=seg.campaign,
            start=from_ms(start),
            end=from_ms(seg_end) if seg_end is not None else None,
            occurrence=None,
        )
    n, cycle_ms = len(seg.items), seg.cycle_ms
    cycle, pos = divmod(t - seg.anchor_ms, cycle_ms)
    k = bisect_right(seg.offsets, pos) - 1
    span_start = t - (pos - seg.offsets[k])
    # Walk back to the displayable item on screen (k itself when it is displayable).
    j, j_cycle, j_start = k, cycle, span_start
    while not shown[j]:
        if j == 0:
            j, j_cycle = n - 1, j_cycle - 1
            j_start -= cycle_ms - seg.offsets[n - 1]
        else:
            j -= 1
            j_start -= seg.offsets[j + 1] - seg.offsets[j]
    # Walk forward to the next displayable item: that is when the screen changes.
    m, m_start = k, span_start
    while True:
        if m == n - 1:
            m_start += cycle_ms - seg.offsets[m]
            m = 0
        else:
            m_start += seg.offsets[m + 1] - seg.offsets[m]
            m += 1
        if shown[m]:
            break
    item = seg.items[j]
    return Slot(
        segment=index,
        item_index=j,
        item=item,
        playlist=seg.playlist,
        campaign=seg.campaign,
        start=from_ms(max(j_start, seg.start_ms) if t >= seg.start_ms else j_start),
        end=from_ms(_cap(m_start, seg_end)),
        occurrence=(index, j_cycle, j),
    )


def upcoming_assets(manifest: Manifest, now: datetime) -> list[tuple[datetime, str]]:
    """Each asset still to come from `now` on, with its first instant on screen; soonest first."""
    t = to_ms(now)
    first: dict[str, int] = {}
    current = segment_index(manifest, t)
    for index, seg in enumerate(manifest.segments):
        seg_end = _segment_end(manifest, index)
        if index < current or not seg.items:
            continue
        begin = t if index == current else seg.start_ms
        pos = (begin - seg.anchor_ms) % seg.cycle_ms
        for offset, item in zip(seg.offsets, seg.items, strict=True):
            if offset <= pos < offset + item.duration_ms:
                when = begin
            else:
                when = begin + (offset - pos) % seg.cycle_ms
            if seg_end is not None and when >= seg_end:
                continue
            if when < first.get(item.asset, when + 1):
                first[item.asset] = when
    return sorted(((from_ms(ms), sha) for sha, ms in first.items()), key=lambda p: p[0])


def required_assets(manifest: Manifest, now: datetime, lookahead: timedelta) -> set[str]:
    """The assets on screen between `now` and `now + lookahead`."""
    limit = now + lookahead
    return {sha for when, sha in upcoming_assets(manifest, now) if when < limit}
