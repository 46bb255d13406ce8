"""Invariants of the engine over random rules, screens and zones, checked against an oracle.

The oracle (conftest.py) shares no code with the engine, not even its ordering enums.

CI runs a fixed seed (derandomised). `SIGNAGE_PROPERTY_LONG=1` runs random seeds and ten
times the examples, e.g. before a release:

    SIGNAGE_PROPERTY_LONG=1 .venv/bin/python -m pytest tests/server/scheduling -q
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.scheduling import (
    DailyWindow,
    Layer,
    Rule,
    Schedule,
    ScreenFacts,
    Segment,
    Targets,
    find_conflicts,
    occurrences,
    resolve,
    timeline,
)

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai", "UTC"]
# Days next to 2024's DST changes, each with its zone, and the leap day.
BASE_DAYS = [
    (date(2024, 3, 9), "America/New_York"),  # springs forward on the 10th
    (date(2024, 3, 30), "Europe/Berlin"),  # springs forward on the 31st
    (date(2024, 4, 6), "Australia/Lord_Howe"),  # falls back half an hour on the 7th
    (date(2024, 10, 5), "Australia/Lord_Howe"),  # springs forward half an hour on the 6th
    (date(2024, 10, 26), "Europe/Berlin"),  # falls back on the 27th
    (date(2024, 11, 2), "America/New_York"),  # falls back on the 3rd
    (date(2024, 2, 28), "Asia/Shanghai"),
]
OracleAt = Callable[[list[Rule], ScreenFacts, datetime], tuple[object, ...]]
OracleSpans = Callable[[Rule, str, date], list[tuple[datetime, datetime]]]
PARTS = 1_000_000  # sample instants at k/PARTS of an interval, exactly
ORG_PATHS = [(1,), (1, 2), (1, 3), (1, 2, 4)]
LONG = os.environ.get("SIGNAGE_PROPERTY_LONG", "") not in ("", "0")
PROPERTY = settings(
    max_examples=1200 if LONG else 120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=not LONG,
)
GRID = settings(PROPERTY, max_examples=300 if LONG else 30)
Boundaries = Callable[[list[Rule], ScreenFacts, datetime, datetime], set[datetime]]


# --- strategies -------------------------------------------------------------------------

# Mostly the hours where DST changes happen, and around midnight.
hours = st.one_of(st.sampled_from([0, 1, 2, 2, 3, 22, 23]), st.integers(0, 23))
wall_times = st.builds(time, hours, st.sampled_from([0, 15, 30, 45]))


@st.composite
def rules_and_screen(
    draw: st.DrawFn, contested: bool = False
) -> tuple[list[Rule], ScreenFacts, datetime, datetime]:
    """Rules, a screen and an interval. `contested`: at least two rules reach the screen
    and play all of the interval's first day, so that which one wins is what is tested."""
    base, base_zone = draw(st.sampled_from(BASE_DAYS))
    zones = st.one_of(st.just(base_zone), st.sampled_from(ZONES))
    screen = ScreenFacts(
        id=draw(st.sampled_from([100, 101])),
        org_path=draw(st.sampled_from(ORG_PATHS)),
        timezone=draw(zones),
        groups=draw(st.frozensets(st.sampled_from([10, 11, 12]), max_size=2)),
        tags=draw(st.frozensets(st.sampled_from(["a", "b"]), max_size=2)),
        default_playlist=draw(st.sampled_from([None, "default"])),
    )
    anchor = datetime.combine(base, time(0), UTC)
    instants = st.builds(
        lambda minutes: anchor + timedelta(minutes=minutes), st.integers(-1440, 6 * 1440)
    )
    rules = []
    for i in range(draw(st.integers(2 if contested else 0, 6))):
        rival = contested and i < 2  # reaches the screen, all day on `base` and the next
        first = base + timedelta(days=0 if rival else draw(st.integers(-2, 3)))
        interval = None
        if not rival and draw(st.integers(0, 9)) == 0:
            s = draw(instants)
            interval = (s, s + timedelta(minutes=draw(st.integers(1, 3 * 1440))))
        live_from = None if rival else draw(st.one_of(st.none(), instants))
        live_until = None if rival else draw(st.one_of(st.none(), instants))
        if live_from is not None and live_until is not None and live_until <= live_from:
            live_until = None
        rules.append(
            Rule(
                id=f"r{i}",
                playlist=draw(st.sampled_from(["p", "q", "r"])),
                owner_org=draw(st.sampled_from([1, 2, 3, 4])),
                targets=Targets(
                    everyone=True if rival else draw(st.booleans()),
                    organisations=draw(st.frozensets(st.sampled_from([1, 2, 3, 4]), max_size=2)),
                    groups=draw(st.frozensets(st.sampled_from([10, 11, 12]), max_size=2)),
                    tags=draw(st.frozensets(st.sampled_from(["a", "b"]), max_size=1)),
                    screens=draw(st.frozensets(st.sampled_from([100, 101]), max_size=1)),
                ),
                first_date=first,
                last_date=first + timedelta(days=draw(st.integers(1 if rival else 0, 4))),
                timezone=draw(st.one_of(st.none(), zones)),
                weekdays=None
                if rival
                else draw(st.one_of(st.none(), st.frozensets(st.integers(0, 6), min_size=1))),
                windows=tuple(
                    DailyWindow(draw(wall_times), draw(wall_times))
                    for _ in range(draw(st.integers(0, 0 if rival else 2)))
                ),
                interval=interval,
                priority=draw(st.integers(0, 2)),
                layer=draw(st.sampled_from([Layer.NORMAL, Layer.NORMAL, Layer.TAKEOVER])),
                published_at=draw(st.sampled_from([None, anchor - timedelta(days=1), anchor])),
                live_from=live_from,
                live_until=live_until,
            )
        )
    if contested:  # inside the rivals' two days, wherever their zones put them
        start = anchor + timedelta(minutes=draw(st.integers(840, 1440)))
        end = start + timedelta(minutes=draw(st.integers(60, 1440)))
    else:
        start = anchor + timedelta(minutes=draw(st.integers(-720, 1440)))
        end = start + timedelta(minutes=draw(st.integers(1, 4 * 1440)))
    return rules, screen, start, end


def answer(segment: Segment) -> tuple[object, ...]:
    return (segment.playlist, segment.rule, segment.anchor, segment.beaten, segment.conflict)


def containing(segments: list[Segment], t: datetime) -> Segment:
    (found,) = [s for s in segments if s.start <= t < s.end]
    return found


# --- properties ---------------------------------------------------------------------------


@PROPERTY
@given(rules_and_screen())
def test_segments_cover_the_interval_exactly(case: tuple) -> None:
    rules, screen, start, end = case
    segments = timeline(rules, screen, start, end)
    assert segments[0].start == start and segments[-1].end == end
    for seg in segments:
        assert seg.start < seg.end
        assert seg.start.utcoffset() == timedelta(0) and seg.anchor.utcoffset() == timedelta(0)
    for before, after in zip(segments, segments[1:], strict=False):
        assert before.end == after.start
        assert answer(before) != answer(after), "equal neighbours must be merged"


@PROPERTY
@given(rules_and_screen(), st.randoms(use_true_random=False))
def test_timeline_is_deterministic_under_any_rule_order(case: tuple, rnd: Random) -> None:
    rules, screen, start, end = case
    shuffled = list(rules)
    rnd.shuffle(shuffled)
    assert timeline(shuffled, screen, start, end) == timeline(rules, screen, start, end)


@PROPERTY
@given(rules_and_screen(), st.lists(st.integers(0, PARTS - 1), max_size=8))
def test_every_answer_is_what_the_oracle_computes(
    oracle_at: OracleAt, case: tuple, fractions: list[int]
) -> None:
    rules, screen, start, end = case
    segments = timeline(rules, screen, start, end)
    samples = [s.start for s in segments] + [s.start + (s.end - s.start) / 2 for s in segments]
    samples += [start + (end - start) * f // PARTS for f in fractions]
    for t in samples:
        assert answer(containing(segments, t)) == oracle_at(rules, screen, t), t


@GRID
@given(rules_and_screen())
def test_an_independent_grid_agrees_with_the_oracle(
    oracle_at: OracleAt, oracle_boundaries: Boundaries, case: tuple
) -> None:
    """Every minute across the interval and every rule boundary (by the oracle's own reading)
    one second either side: none of these points is one the engine chose."""
    check_grid(oracle_at, oracle_boundaries, case)


@GRID
@given(rules_and_screen(contested=True))
def test_an_independent_grid_agrees_with_the_oracle_where_rules_compete(
    oracle_at: OracleAt, oracle_boundaries: Boundaries, case: tuple
) -> None:
    """The same grid where at least two rules reach the screen all day: which one wins (and
    the rules it beat) is checked at every point. A fixed seed's plain cases seldom have
    two rules on one screen at once."""
    check_grid(oracle_at, oracle_boundaries, case)


def check_grid(oracle_at: OracleAt, oracle_boundaries: Boundaries, case: tuple) -> None:
    rules, screen, start, end = case
    segments = timeline(rules, screen, start, end)
    grid = {start + timedelta(minutes=m) for m in range(int((end - start).total_seconds() // 60))}
    second = timedelta(seconds=1)
    for edge in oracle_boundaries(rules, screen, start, end):
        grid.update(t for t in (edge - second, edge, edge + second) if start <= t < end)
    for t in sorted(grid):
        assert answer(containing(segments, t)) == oracle_at(rules, screen, t), t


@PROPERTY
@given(rules_and_screen(), st.integers(0, PARTS - 1))
def test_resolve_equals_the_timeline_segment(case: tuple, fraction: int) -> None:
    rules, screen, start, end = case
    at = start + (end - start) * fraction // PARTS
    segment = containing(timeline(rules, screen, start, end), at)
    found = resolve(rules, screen, at)
    assert answer(found.segment) == answer(segment)
    assert found.next_change == found.segment.end
    # resolve sees beyond [start, end): its segment extends the timeline's, never cuts it.
    assert found.segment.start <= segment.start and found.segment.end >= segment.end
    if segment.end < end:
        assert found.segment.end == segment.end
    if segment.start > start:
        assert found.segment.start == segment.start


@PROPERTY
@given(rules_and_screen(), st.integers(0, PARTS))
def test_a_shorter_query_sees_the_same_answers(case: tuple, fraction: int) -> None:
    rules, screen, start, end = case
    cut = start + (end - start) * fraction // PARTS
    whole = timeline(rules, screen, start, end)
    parts = timeline(rules, screen, start, cut) + timeline(rules, screen, cut, end)
    assert [(answer(s), s.start) for s in parts if s.start != cut] == [
        (answer(s), s.start) for s in whole if s.start != cut
    ]
    for seg in parts:
        assert answer(containing(whole, seg.start)) == answer(seg)


@PROPERTY
@given(rules_and_screen())
def test_screens_with_one_key_share_one_timeline(case: tuple) -> None:
    rules, screen, start, end = case
    # Facts no rule can see: another id, groups and tags nobody names.
    twin = ScreenFacts(
        id=999,
        org_path=screen.org_path,
        timezone=screen.timezone,
        groups=screen.groups | {77},
        tags=screen.tags | {"unnamed"},
        default_playlist=screen.default_playlist,
    )
    schedule = Schedule(rules)
    if schedule.screen_key(twin) == schedule.screen_key(screen):
        assert schedule.timeline(twin, start, end) == schedule.timeline(screen, start, end)
    else:
        assert any(screen.id in r.targets.screens for r in rules)


@PROPERTY
@given(rules_and_screen())
def test_conflicts_cover_exactly_the_conflicted_segments(case: tuple) -> None:
    rules, screen, start, end = case
    segments = timeline(rules, screen, start, end)
    conflicts = find_conflicts(rules, [screen], start, end)
    flagged = [(s.start, s.end, s.rule) for s in segments if s.conflict]
    for c in conflicts:
        assert c.screen == screen.id and c.winner == c.rules[0] and len(c.rules) >= 2
        inside = [f for f in flagged if c.start <= f[0] and f[1] <= c.end]
        assert inside and inside[0][0] == c.start and inside[-1][1] == c.end
        assert all(f[2] == c.winner for f in inside)
    covered = sum(((c.end - c.start) for c in conflicts), timedelta(0))
    assert covered == sum(((e - s) for s, e, _ in flagged), timedelta(0))


# --- focused properties: DST conversion and the resolution order ----------------------------


@st.composite
def dst_rules(draw: st.DrawFn) -> Rule:
    base, zone_name = draw(st.sampled_from(BASE_DAYS[:6]))
    day = base + timedelta(days=1)  # the day of the change
    near = st.builds(time, st.sampled_from([0, 1, 2, 3, 4, 23]), st.sampled_from([0, 15, 30, 45]))
    return Rule(
        id="dst",
        playlist="p",
        owner_org=1,
        targets=Targets(everyone=True),
        first_date=day - timedelta(days=draw(st.integers(0, 1))),
        last_date=day + timedelta(days=draw(st.integers(0, 1))),
        timezone=zone_name,
        windows=tuple(DailyWindow(draw(near), draw(near)) for _ in range(draw(st.integers(0, 3)))),
    )


@settings(PROPERTY, max_examples=3000 if LONG else 300)
@given(dst_rules())
def test_occurrences_follow_the_documented_dst_rules(oracle_spans: OracleSpans, rule: Rule) -> None:
    assert rule.timezone is not None
    start = datetime.combine(rule.first_date - timedelta(days=2), time(0), UTC)
    end = datetime.combine(rule.last_date + timedelta(days=3), time(0), UTC)
    expected = []
    day = rule.first_date
    while day <= rule.last_date:
        expected += [(s, e, s) for s, e in oracle_spans(rule, rule.timezone, day)]
        day += timedelta(days=1)
    found = occurrences(rule, "UTC", start, end)
    assert [(o.start, o.end, o.anchor) for o in found] == sorted(expected)


@st.composite
def contenders(draw: st.DrawFn) -> list[Rule]:
    """Rules that all play the whole of one day, so every example exercises the order."""
    published = [None, datetime(2024, 5, 1, tzinfo=UTC), datetime(2024, 5, 2, tzinfo=UTC)]
    ids = draw(st.lists(st.sampled_from("abcdefgh"), min_size=2, max_size=6, unique=True))
    return [
        Rule(
            id=rule_id,
            playlist=f"p-{rule_id}",
            owner_org=1,
            targets=Targets(
                everyone=draw(st.booleans()),
                organisations=draw(st.frozensets(st.sampled_from([1, 2]), max_size=1)),
                groups=draw(st.frozensets(st.sampled_from([10, 11]), max_size=1)),
                tags=draw(st.frozensets(st.just("a"), max_size=1)),
                screens=draw(st.frozensets(st.just(100), max_size=1)),
            ),
            first_date=date(2024, 6, 3),
            last_date=date(2024, 6, 3),
            priority=draw(st.integers(0, 1)),
            layer=draw(st.sampled_from([Layer.NORMAL, Layer.NORMAL, Layer.TAKEOVER])),
            published_at=draw(st.sampled_from(published)),
        )
        for rule_id in ids
    ]


@settings(PROPERTY, max_examples=3000 if LONG else 300)
@given(contenders())
def test_the_winner_is_maximal_under_the_documented_order(
    oracle_at: OracleAt, rules: list[Rule]
) -> None:
    screen = ScreenFacts(
        id=100, org_path=(1, 2), timezone="UTC", groups=frozenset({10}), tags=frozenset({"a"})
    )
    noon = datetime(2024, 6, 3, 12, tzinfo=UTC)
    (segment,) = timeline(rules, screen, noon, noon + timedelta(hours=1))
    assert answer(segment) == oracle_at(rules, screen, noon)
