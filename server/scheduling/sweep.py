"""The sweep: from ranked occurrences to stretches with one answer each."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from server.scheduling.localtime import ONE_DAY, day_containing, day_start
from server.scheduling.matching import TieGroup
from server.scheduling.occurrences import Occurrence

_State = tuple[int | None, datetime, tuple[int, ...], int]


@dataclass(frozen=True, slots=True)
class Piece:
    """[start, end) with one answer; rules are named by rank (0 = best of the matching)."""

    start: datetime
    end: datetime
    winner: int | None
    anchor: datetime
    others: tuple[int, ...]
    tied: int  # active rules sharing the winner's tie group, the winner included


def sweep(
    per_rank: Sequence[Sequence[Occurrence]],
    groups: Sequence[TieGroup],
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
) -> list[Piece]:
    """Contiguous pieces covering UTC [start, end); adjacent equal answers are merged.

    `per_rank[r]` holds the occurrences of the rule ranked `r`. Where no rule is active,
    the piece is anchored at the screen's local midnight (`tz`), so pieces split there.
    """
    events: list[tuple[datetime, int, int, datetime]] = []
    for rank, occs in enumerate(per_rank):
        for occ in occs:
            s = occ.start if occ.start > start else start
            e = occ.end if occ.end < end else end
            if s < e:
                events.append((s, 1, rank, occ.anchor))
                events.append((e, -1, rank, occ.anchor))
    events.sort(key=lambda ev: ev[0])

    day = day_containing(start, tz)
    day_anchor = day_start(day, tz)
    midnights: list[datetime] = []
    while True:
        day += ONE_DAY
        boundary = day_start(day, tz)
        if boundary >= end:
            break
        midnights.append(boundary)

    times = sorted({start, *midnights, *(ev[0] for ev in events if ev[0] < end)})
    anchors: dict[int, list[datetime]] = {}
    active: list[int] = []
    out: list[Piece] = []
    current: _State | None = None
    current_start = start
    ev_i = 0
    mid_i = 0
    n_events = len(events)
    for t in times:
        while ev_i < n_events and events[ev_i][0] == t:
            _, delta, rank, anchor = events[ev_i]
            ev_i += 1
            held = anchors.get(rank)
            if delta > 0:
                if held is None:
                    anchors[rank] = [anchor]
                    insort(active, rank)
                else:
                    held.append(anchor)
            else:
                assert held is not None
                held.remove(anchor)
                if not held:
                    del anchors[rank]
                    del active[bisect_left(active, rank)]
        while mid_i < len(midnights) and midnights[mid_i] <= t:
            day_anchor = midnights[mid_i]
            mid_i += 1
        state: _State
        if active:
            winner = active[0]
            group = groups[winner]
            tied = 1
            while tied < len(active) and groups[active[tied]] == group:
                tied += 1
            # Overlapping occurrences of one rule: the one that began first carries on.
            state = (winner, min(anchors[winner]), tuple(active[1:]), tied)
        else:
            state = (None, day_anchor, (), 0)
        if state != current:
            if current is not None:
                out.append(Piece(current_start, t, *current))
            current, current_start = state, t
    assert current is not None
    out.append(Piece(current_start, end, *current))
    return out
