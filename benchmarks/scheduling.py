"""How fast the scheduling engine resolves a week, against baselines measured in the same run.

Run: .venv/bin/python benchmarks/scheduling.py [--repeat N]

Scenarios (deterministic, seeded):
  1. one screen, one week, 1,000 entries spread over a province ▸ city ▸ unit tree;
  2. the same, with all 1,000 entries reaching the screen (the worst case for the sweep);
  3. 10,000 screens sharing 50 target sets, one week, resolved once per `screen_key`.
Baselines: a one-rule timeline for the same screen and week, and merely expanding the
occurrences of the rules that reach the screen (no resolution).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time as clock
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.scheduling import DailyWindow, Layer, Rule, Schedule, ScreenFacts, Segment, Targets
from server.scheduling.localtime import wall_to_utc, zone  # noqa: E402
from server.scheduling.occurrences import day_spans, expand  # noqa: E402

WEEK_START = datetime(2022, 9, 4, 16, tzinfo=UTC)  # local midnight, 5 Sept, Asia/Shanghai
WEEK_END = WEEK_START + timedelta(days=7)
FIRST_DAY = date(2022, 9, 5)
CITIES = list(range(2, 12))  # 10 cities under province 1
UNITS = {city: [city * 100 + u for u in range(10)] for city in CITIES}  # 100 units
GROUPS = list(range(1000, 1040))
TAGS = ["lobby", "portrait", "outdoor", "campus", "bank", "station"]
ZONES = ["Asia/Shanghai"] * 8 + ["Asia/Urumqi", "Europe/Berlin"]


def make_rules(rng: random.Random, n: int, everyone: bool) -> list[Rule]:
    rules = []
    for i in range(n):
        level = rng.random()
        if everyone or level < 0.1:
            owner = 1
        elif level < 0.4:
            owner = rng.choice(CITIES)
        else:
            owner = rng.choice(UNITS[rng.choice(CITIES)])
        kind = rng.random()
        if everyone or kind < 0.3:
            targets = Targets(everyone=True)
        elif kind < 0.5:
            targets = Targets(groups=frozenset(rng.sample(GROUPS, 2)))
        elif kind < 0.7:
            targets = Targets(tags=frozenset(rng.sample(TAGS, 1)))
        elif kind < 0.9:
            targets = Targets(organisations=frozenset({owner}))
        else:
            targets = Targets(screens=frozenset(rng.sample(range(10_000), 3)))
        first = FIRST_DAY + timedelta(days=rng.randint(-3, 6))
        windows = tuple(
            DailyWindow(time(h, rng.choice([0, 30])), time((h + rng.randint(1, 6)) % 24))
            for h in rng.sample(range(24), rng.randint(0, 3))
        )
        takeover = rng.random() < 0.02
        interval = None
        if takeover:
            s = WEEK_START + timedelta(minutes=rng.randint(0, 7 * 1440))
            interval = (s, s + timedelta(minutes=rng.randint(5, 120)))
        rules.append(
            Rule(
                id=f"entry-{i:04d}",
                playlist=f"playlist-{rng.randint(0, 80)}",
                owner_org=owner,
                targets=targets,
                first_date=first,
                last_date=first + timedelta(days=rng.randint(0, 6)),
                timezone=rng.choice([None, "Asia/Shanghai"]),
                weekdays=frozenset(rng.sample(range(7), 5)) if rng.random() < 0.2 else None,
                windows=windows,
                interval=interval,
                priority=rng.randint(0, 5),
                layer=Layer.TAKEOVER if takeover else Layer.NORMAL,
                published_at=WEEK_START - timedelta(days=rng.randint(1, 30)),
            )
        )
    return rules


def profiles(rng: random.Random, n: int) -> list[ScreenFacts]:
    out = []
    for _ in range(n):
        city = rng.choice(CITIES)
        out.append(
            ScreenFacts(
                id=0,
                org_path=(1, city, rng.choice(UNITS[city])),
                timezone=rng.choice(ZONES),
                groups=frozenset(rng.sample(GROUPS, 3)),
                tags=frozenset(rng.sample(TAGS, 2)),
                default_playlist=f"default-{city}",
            )
        )
    return out


def best_of(repeat: int, work: Callable[[], object]) -> float:
    """Fastest of `repeat` cold runs (engine caches cleared first), in seconds.

    As `timeit` does, the garbage collector is off while timing so one run does not pay
    for another's garbage.
    """
    best = float("inf")
    for _ in range(repeat):
        wall_to_utc.cache_clear()
        day_spans.cache_clear()
        gc.collect()
        gc.disable()
        try:
            t0 = clock.perf_counter()
            work()
            best = min(best, clock.perf_counter() - t0)
        finally:
            gc.enable()
    return best


def expand_all(rules: Sequence[Rule], screen: ScreenFacts) -> None:
    for rule in rules:
        expand(rule, zone(rule.timezone or screen.timezone), WEEK_START, WEEK_END)


def resolve_week(rules: Sequence[Rule], screen: ScreenFacts) -> None:
    Schedule(rules).timeline(screen, WEEK_START, WEEK_END)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:9.3f} ms"


def row(kind: str, label: str, seconds: float, note: str = "") -> None:
    print(f"{kind:<9} {label:<46}{ms(seconds)}{note}")


def one_screen(label: str, rules: list[Rule], screen: ScreenFacts, repeat: int,
               trivial: float) -> None:
    schedule = Schedule(rules)
    reaching = schedule.ranked(screen).rules
    segments = schedule.timeline(screen, WEEK_START, WEEK_END)
    print(f"\none screen, {label}: {len(reaching)} reach it, {len(segments)} segments")
    expanding = best_of(repeat, partial(expand_all, reaching, screen))
    row("baseline", f"expand the {len(reaching)} rules' occurrences only", expanding)
    build = best_of(repeat, partial(Schedule, rules))
    row("engine", "Schedule(rules): check and prepare 1,000 rules", build)
    sweep = best_of(repeat, partial(schedule.timeline, screen, WEEK_START, WEEK_END))
    row("engine", "timeline on the prepared Schedule", sweep,
        f"  = {sweep / expanding:5.2f}x expanding")
    full = best_of(repeat, partial(resolve_week, rules, screen))
    row("engine", "timeline(rules, screen, week): all of it", full,
        f"  = {full / trivial:6.1f}x the 1-rule timeline")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat

    rng = random.Random(20220905)
    screen = replace(profiles(rng, 1)[0], id=42)
    mixed = make_rules(rng, 1000, everyone=False)
    everyone = make_rules(rng, 1000, everyone=True)
    one_rule = [Rule("only", "p", 1, Targets(everyone=True), FIRST_DAY, FIRST_DAY + timedelta(6))]

    print(f"python {sys.version.split()[0]}; best of {repeat} runs, engine caches cleared, "
          f"gc off while timing; one week from {WEEK_START:%Y-%m-%d %H:%M}Z")
    trivial = best_of(repeat, partial(resolve_week, one_rule, screen))
    print()
    row("baseline", "timeline(1 rule, screen, week)", trivial)
    one_screen("1,000 entries with mixed targets", mixed, screen, repeat, trivial)
    one_screen("1,000 entries that all reach it", everyone, screen, repeat, trivial)

    shapes = profiles(random.Random(7), 50)
    fleet = [replace(shapes[i % 50], id=20_000 + i) for i in range(10_000)]
    schedule = Schedule(mixed)

    def keyed() -> int:
        done: dict[Hashable, list[Segment]] = {}
        for s in fleet:
            key = schedule.screen_key(s)
            if key not in done:
                done[key] = schedule.timeline(s, WEEK_START, WEEK_END)
        return len(done)

    sample = fleet[:200]

    def unkeyed() -> None:
        for s in sample:
            schedule.timeline(s, WEEK_START, WEEK_END)

    distinct = keyed()
    reused = best_of(repeat, keyed)
    alone = best_of(max(1, repeat // 3), unkeyed) / len(sample)
    print(f"\n10,000 screens sharing 50 target sets ({distinct} distinct keys), 1,000 entries,"
          " one prepared Schedule")
    row("engine", "one timeline per screen_key: the whole fleet", reused)
    row("engine", "  per screen-week", reused / len(fleet))
    row("baseline", "one timeline per screen (200 sampled), per screen", alone,
        f"  -> keys make the fleet {alone * len(fleet) / reused:5.0f}x faster")


if __name__ == "__main__":
    main()
