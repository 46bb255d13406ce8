"""A brute-force oracle for the engine's property tests, sharing no code with the engine.

It converts wall-clock times by trying every offset the zone uses nearby and scanning
minute by minute across a gap, and it decides the winner at one instant by comparing
rules pairwise, by its own ordering tables (copied from docs/scheduling.md, not imported
from the engine's enums). Tests get it through the `oracle_at` and `oracle_spans` fixtures.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.scheduling import Rule, ScreenFacts

Answer = tuple[object, ...]  # (playlist, rule, anchor, beaten, conflict)
# The documented order (docs/scheduling.md, "Resolution"), owned here: higher wins.
LAYER_RANK = {"normal": 0, "takeover": 1}
SPECIFICITY_RANK = {"everyone": 0, "organisation": 1, "tag": 2, "group": 3, "screen": 4}
Span = tuple[datetime, datetime]


@pytest.fixture(scope="session")
def oracle_at() -> Callable[[list[Rule], ScreenFacts, datetime], Answer]:
    """(playlist, rule, anchor, beaten, conflict) for a screen at one instant."""
    return answer_at


@pytest.fixture(scope="session")
def oracle_spans() -> Callable[[Rule, str, date], list[Span]]:
    """A rule's spans starting on one date, read in the named zone."""
    return spans


@functools.cache
def oracle_instant(day: date, wall: time, zone_name: str, end: bool) -> datetime:
    """Where `wall` on `day` starts (or ends) by the documented DST rules."""
    tz = ZoneInfo(zone_name)
    naive = datetime.combine(day, wall)
    offsets = {
        (naive + timedelta(hours=h)).replace(tzinfo=UTC).astimezone(tz).utcoffset()
        for h in range(-36, 37, 3)
    }
    readings = sorted(
        u
        for off in offsets
        if off is not None
        for u in [(naive - off).replace(tzinfo=UTC)]
        if u.astimezone(tz).replace(tzinfo=None) == naive
    )
    if readings:  # one reading, or two in a fold: start at the first, end at the second
        return readings[-1] if end else readings[0]
    # A gap: the first instant whose wall clock reads later than `naive`.
    u = (naive - max(o for o in offsets if o is not None)).replace(tzinfo=UTC)
    while u.astimezone(tz).replace(tzinfo=None) <= naive:
        u += timedelta(minutes=1)
    return u


def spans(rule: Rule, zone_name: str, day: date) -> list[Span]:
    if not rule.windows:
        s = oracle_instant(day, time(0), zone_name, False)
        e = oracle_instant(day + timedelta(days=1), time(0), zone_name, False)
        return [(s, e)]
    spans = []
    for w in rule.windows:
        end_day = day + timedelta(days=1) if w.end <= w.start else day
        s = oracle_instant(day, w.start, zone_name, False)
        e = oracle_instant(end_day, w.end, zone_name, True)
        if s < e:
            spans.append((s, e))
    spans.sort()
    merged: list[tuple[datetime, datetime]] = []
    for s, e in spans:
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def oracle_anchor(rule: Rule, screen: ScreenFacts, t: datetime) -> datetime | None:
    """Start of the rule's occurrence in force at `t` (the earliest begun), or None."""
    if rule.live_from is not None and t < rule.live_from:
        return None
    if rule.live_until is not None and t >= rule.live_until:
        return None
    if rule.interval is not None:
        return rule.interval[0] if rule.interval[0] <= t < rule.interval[1] else None
    zone_name = rule.timezone or screen.timezone
    local = t.astimezone(ZoneInfo(zone_name)).date()
    found = []
    for k in range(-2, 2):
        day = local + timedelta(days=k)
        if not rule.first_date <= day <= rule.last_date:
            continue
        if rule.weekdays is not None and day.weekday() not in rule.weekdays:
            continue
        found += [s for s, e in spans(rule, zone_name, day) if s <= t < e]
    return min(found) if found else None


def oracle_specificity(rule: Rule, screen: ScreenFacts) -> int | None:
    """The rank (SPECIFICITY_RANK) of the most specific way the rule names the screen."""
    if rule.owner_org not in screen.org_path:
        return None
    t = rule.targets
    hits = [
        (t.everyone, "everyone"),
        (bool(t.organisations & set(screen.org_path)), "organisation"),
        (bool(t.tags & screen.tags), "tag"),
        (bool(t.groups & screen.groups), "group"),
        (screen.id in t.screens, "screen"),
    ]
    found = [SPECIFICITY_RANK[kind] for hit, kind in hits if hit]
    return max(found) if found else None


def layer_rank(rule: Rule) -> int:
    return LAYER_RANK[rule.layer.name.lower()]


def beats(a: tuple[Rule, int], b: tuple[Rule, int]) -> bool:
    """Whether `a` wins over `b` under the documented order."""
    (ra, sa), (rb, sb) = a, b
    for x, y in [(layer_rank(ra), layer_rank(rb)), (ra.priority, rb.priority), (sa, sb)]:
        if x != y:
            return x > y
    if ra.published_at != rb.published_at:
        if ra.published_at is None or rb.published_at is None:
            return rb.published_at is None
        return ra.published_at > rb.published_at
    return ra.id < rb.id


def oracle_day_start(screen: ScreenFacts, t: datetime) -> datetime:
    local = t.astimezone(ZoneInfo(screen.timezone)).date()
    starts = [
        oracle_instant(local + timedelta(days=k), time(0), screen.timezone, False)
        for k in range(-1, 2)
    ]
    return max(s for s in starts if s <= t)


Contender = tuple[Rule, int, datetime]


def answer_at(rules: list[Rule], screen: ScreenFacts, t: datetime) -> Answer:
    """(playlist, rule, anchor, beaten, conflict) at `t`, by brute force."""
    active: list[Contender] = []
    for rule in rules:
        spec = oracle_specificity(rule, screen)
        anchor = oracle_anchor(rule, screen, t) if spec is not None else None
        if spec is not None and anchor is not None:
            active.append((rule, spec, anchor))
    if not active:
        return (screen.default_playlist, None, oracle_day_start(screen, t), (), False)

    def compare(a: Contender, b: Contender) -> int:
        return -1 if beats((a[0], a[1]), (b[0], b[1])) else 1

    ordered = sorted(active, key=functools.cmp_to_key(compare))
    (w, ws, wa), rest = ordered[0], ordered[1:]
    conflict = bool(rest) and (layer_rank(rest[0][0]), rest[0][0].priority, rest[0][1]) == (
        layer_rank(w),
        w.priority,
        ws,
    )
    return (w.playlist, w.id, wa, tuple(r.id for r, _, _ in rest), conflict)


def _boundaries(
    rules: list[Rule], screen: ScreenFacts, start: datetime, end: datetime
) -> set[datetime]:
    """Every instant in [start, end) where, by the oracle's own reading, some rule may begin
    or end: its spans' edges, its interval, its live bounds, and the screen's midnights."""
    edges: set[datetime] = set()
    first_day = (start - timedelta(days=2)).date()
    last_day = (end + timedelta(days=2)).date()
    for rule in rules:
        edges.update(x for x in (rule.live_from, rule.live_until) if x is not None)
        if rule.interval is not None:
            edges.update(rule.interval)
            continue
        zone_name = rule.timezone or screen.timezone
        day = max(first_day, rule.first_date - timedelta(days=1))
        while day <= min(last_day, rule.last_date + timedelta(days=1)):
            for s, e in spans(rule, zone_name, day):
                edges.update((s, e))
            day += timedelta(days=1)
    day = first_day
    while day <= last_day:
        edges.add(oracle_instant(day, time(0), screen.timezone, False))
        day += timedelta(days=1)
    return {t for t in edges if start <= t < end}


@pytest.fixture(scope="session")
def oracle_boundaries() -> Callable[[list[Rule], ScreenFacts, datetime, datetime], set[datetime]]:
    """Instants in [start, end) where a rule may begin or end, by the oracle's reading."""
    return _boundaries
