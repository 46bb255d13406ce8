"""Resolution: what a screen plays over an interval (a timeline) or at one instant."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from server.scheduling.errors import InvalidSchedule
from server.scheduling.localtime import MAX_YEAR, MIN_YEAR, to_utc, zone
from server.scheduling.matching import TargetIndex, TieGroup, order_key, specificity, tie_group
from server.scheduling.occurrences import expand
from server.scheduling.rules import Resolution, Rule, ScreenFacts, Segment, Specificity
from server.scheduling.sweep import Piece, sweep
from server.scheduling.validate import in_utc, require_rules, require_screen

# How far `resolve` looks either way for where the answer at an instant began and ends.
RESOLVE_HORIZON = timedelta(days=400)
_FIRST_LOOK = timedelta(days=2)
_EARLIEST = datetime(MIN_YEAR, 1, 1, tzinfo=UTC)
_LATEST = datetime(MAX_YEAR, 12, 31, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Ranked:
    """The rules reaching one screen, best first, with what the sweep needs of each."""

    rules: tuple[Rule, ...]
    specificities: tuple[Specificity, ...]
    groups: tuple[TieGroup, ...]
    ids: tuple[str, ...]


class Schedule:
    """A checked set of rules, prepared to resolve many screens and intervals.

    Build one per set of rules and reuse it: rules are validated once, and screens with
    the same `screen_key` share their matching.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        given = tuple(rules)
        require_rules(given)
        self.rules: tuple[Rule, ...] = tuple(in_utc(rule) for rule in given)
        self._index = TargetIndex(self.rules)
        self._ranked: dict[Hashable, Ranked] = {}

    def screen_key(self, screen: ScreenFacts) -> Hashable:
        """A key that two screens share only if these rules give them the same timeline."""
        return self._index.key(screen)

    def ranked(self, screen: ScreenFacts) -> Ranked:
        """The rules that reach `screen`, best first under the resolution order."""
        key = self._index.key(screen)
        found = self._ranked.get(key)
        if found is None:
            matched = []
            for rule in self.rules:
                spec = specificity(rule, screen)
                if spec is not None:
                    matched.append((order_key(rule, spec), rule, spec))
            matched.sort(key=lambda m: m[0])
            found = Ranked(
                rules=tuple(m[1] for m in matched),
                specificities=tuple(m[2] for m in matched),
                groups=tuple(tie_group(m[1], m[2]) for m in matched),
                ids=tuple(m[1].id for m in matched),
            )
            self._ranked[key] = found
        return found

    def pieces(
        self, screen: ScreenFacts, start: datetime, end: datetime
    ) -> tuple[Ranked, list[Piece]]:
        """The sweep's raw answer for `screen` over [start, end), with the ranking it names."""
        require_screen(screen)
        lo, hi = to_utc(start, "start"), to_utc(end, "end")
        if hi < lo:
            raise InvalidSchedule("end", "is before start")
        ranked = self.ranked(screen)
        if lo == hi:
            return ranked, []
        screen_tz = zone(screen.timezone)
        per_rank = [
            expand(rule, zone(rule.timezone) if rule.timezone else screen_tz, lo, hi)
            for rule in ranked.rules
        ]
        return ranked, sweep(per_rank, ranked.groups, screen_tz, lo, hi)

    def timeline(self, screen: ScreenFacts, start: datetime, end: datetime) -> list[Segment]:
        """What `screen` plays over [start, end): contiguous UTC segments covering it exactly."""
        ranked, pieces = self.pieces(screen, start, end)
        return [_segment(piece, ranked, screen) for piece in pieces]

    def resolve(self, screen: ScreenFacts, at: datetime) -> Resolution:
        """The segment holding `at` (as `timeline` gives it) and the instant it ends.

        The segment is looked for at most RESOLVE_HORIZON either side of `at`; an answer
        that holds longer than that is reported cut at the horizon.
        """
        at = to_utc(at, "at")
        if not _EARLIEST <= at < _LATEST:
            raise InvalidSchedule("at", "is outside the range the engine schedules")
        back = forward = _FIRST_LOOK
        while True:
            lo, hi = max(at - back, _EARLIEST), min(at + forward, _LATEST)
            segments = self.timeline(screen, lo, hi)
            found = next(s for s in segments if s.start <= at < s.end)
            grow_back = found.start == lo > _EARLIEST and back < RESOLVE_HORIZON
            grow_forward = found.end == hi < _LATEST and forward < RESOLVE_HORIZON
            if not (grow_back or grow_forward):
                return Resolution(segment=found, next_change=found.end)
            if grow_back:
                back = min(back * 4, RESOLVE_HORIZON)
            if grow_forward:
                forward = min(forward * 4, RESOLVE_HORIZON)


def _segment(piece: Piece, ranked: Ranked, screen: ScreenFacts) -> Segment:
    if piece.winner is None:
        return Segment(
            start=piece.start,
            end=piece.end,
            playlist=screen.default_playlist,
            rule=None,
            anchor=piece.anchor,
        )
    winner = ranked.rules[piece.winner]
    return Segment(
        start=piece.start,
        end=piece.end,
        playlist=winner.playlist,
        rule=winner.id,
        anchor=piece.anchor,
        beaten=tuple([ranked.ids[r] for r in piece.others]),
        conflict=piece.tied > 1,
    )


def timeline(
    rules: Sequence[Rule], screen: ScreenFacts, start: datetime, end: datetime
) -> list[Segment]:
    """What `screen` plays over [start, end); see `Schedule.timeline`."""
    return Schedule(rules).timeline(screen, start, end)


def resolve(rules: Sequence[Rule], screen: ScreenFacts, at: datetime) -> Resolution:
    """What `screen` plays at `at` and until when; see `Schedule.resolve`."""
    return Schedule(rules).resolve(screen, at)


def screen_key(screen: ScreenFacts, rules: Sequence[Rule] | Schedule) -> Hashable:
    """Equal for two screens that get the same timeline from `rules`.

    Building the key from a bare sequence reads every rule; for many screens, build a
    `Schedule` once and call its `screen_key`.
    """
    schedule = rules if isinstance(rules, Schedule) else Schedule(rules)
    return schedule.screen_key(screen)
