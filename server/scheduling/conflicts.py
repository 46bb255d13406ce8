"""Ties that only the last tie-breaks settle, reported before they reach a screen."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime

from server.scheduling.resolve import Ranked, Schedule
from server.scheduling.rules import Layer, Rule, RuleConflict, ScreenFacts, Specificity
from server.scheduling.sweep import Piece
from server.scheduling.validate import require_screen

# (start, end, tied rule ids with the winner first, detail)
_Stretch = tuple[datetime, datetime, tuple[str, ...], str]


def find_conflicts(
    rules: Sequence[Rule] | Schedule,
    screens: Iterable[ScreenFacts],
    start: datetime,
    end: datetime,
) -> list[RuleConflict]:
    """Where, for which screen, live rules tied on layer, priority and specificity.

    Contiguous stretches with the same tied rules and winner are one RuleConflict. Screens
    with the same `screen_key` are resolved once. Sorted by screen id, then start.
    """
    schedule = rules if isinstance(rules, Schedule) else Schedule(rules)
    by_key: dict[Hashable, list[_Stretch]] = {}
    found: list[RuleConflict] = []
    for screen in screens:
        require_screen(screen)
        key = schedule.screen_key(screen)
        stretches = by_key.get(key)
        if stretches is None:
            ranked, pieces = schedule.pieces(screen, start, end)
            stretches = by_key[key] = _stretches(ranked, pieces)
        found.extend(
            RuleConflict(screen=screen.id, start=s, end=e, rules=ids, winner=ids[0], detail=detail)
            for s, e, ids, detail in stretches
        )
    found.sort(key=lambda c: (c.screen, c.start, c.rules))
    return found


def _stretches(ranked: Ranked, pieces: list[Piece]) -> list[_Stretch]:
    out: list[_Stretch] = []
    for piece in pieces:
        if piece.winner is None or piece.tied < 2:
            continue
        tied = (piece.winner, *piece.others[: piece.tied - 1])
        ids = tuple(ranked.rules[r].id for r in tied)
        if out and out[-1][1] == piece.start and out[-1][2] == ids:
            out[-1] = (out[-1][0], piece.end, ids, out[-1][3])
        else:
            out.append((piece.start, piece.end, ids, _detail(ranked, tied)))
    return out


def _detail(ranked: Ranked, tied: tuple[int, ...]) -> str:
    winner, runner_up = ranked.rules[tied[0]], ranked.rules[tied[1]]
    spec = ranked.specificities[tied[0]]
    if winner.published_at != runner_up.published_at:
        settled = "it was published most recently"
    else:
        settled = "the tie is broken on rule id (same publication time)"
    return (
        f"{len(tied)} rules tie on layer {Layer(winner.layer).name.lower()}, "
        f"priority {winner.priority}, target {Specificity(spec).name.lower()}; "
        f"{winner.id!r} plays because {settled}"
    )
