"""Published content and screen facts, as ratios against baselines measured in the same run.

1. `load_published`: C campaigns of E entries, each published P times (so older versions
   are history), against reading the same publication rows (ids and snapshots) raw.
2. `screens_facts` for S screens in bulk, against `screen_facts` one screen at a time and
   against selecting the screens alone.

Run: .venv/bin/python benchmarks/campaigns.py [--campaigns 50] [--entries 10]
     [--publishes 4] [--screens 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.organisations import create_organisation
from server.campaigns import versions as content_version
from server.campaigns.models import Campaign, Publication
from server.campaigns.publications import load_published, screen_facts, screens_facts
from server.config import load_settings
from server.db import make_engine
from server.migrations import upgrade
from server.screens.models import Group, Screen

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs, after one warm-up run."""
    action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def snapshot(campaign: int, org: int, entries: int, groups: list[int]) -> dict[str, object]:
    return {
        "format": 1,
        "campaign": {
            "id": campaign,
            "name": f"Campaign {campaign}",
            "organisation_id": org,
            "timezone": "Asia/Shanghai",
            "start_date": "2026-01-05",
            "end_date": "2026-01-11",
        },
        "playlists": {
            str(e): {
                "name": f"p{e}",
                "items": [
                    {
                        "asset_id": 1,
                        "sha256": "0" * 64,
                        "kind": "image",
                        "duration_ms": 10_000,
                        "fit": "contain",
                        "transition": "cut",
                    }
                ],
            }
            for e in range(entries)
        },
        "entries": [
            {
                "playlist_id": e,
                "targets": {
                    "everyone": e == 0,
                    "organisations": [],
                    "groups": [groups[e % len(groups)]] if e else [],
                    "tags": [],
                    "screens": [],
                },
                "first_date": f"2026-01-{5 + e % 7:02d}",
                "last_date": f"2026-01-{5 + e % 7:02d}",
                "weekdays": None,
                "windows": [["08:00", "18:00"]] if e % 2 else [],
                "interval_start": None,
                "interval_end": None,
                "screen_local": False,
                "priority": e,
                "layer": "normal",
            }
            for e in range(entries)
        ],
    }


def seed(session: Session, args: argparse.Namespace) -> None:
    root = create_organisation(session, "Province", None, NOW)
    session.flush()
    cities = []
    for i in range(10):
        cities.append(create_organisation(session, f"City {i}", root, NOW))
        session.flush()
    groups = []
    for i, city in enumerate(cities):
        parent = Group(organisation_id=city.id, name=f"all-{i}", created_at=NOW)
        session.add(parent)
        session.flush()
        child = Group(
            organisation_id=city.id, name=f"campus-{i}", parent_id=parent.id, created_at=NOW
        )
        session.add(child)
        groups += [parent, child]
    session.flush()
    for n in range(args.screens):
        screen = Screen(
            organisation_id=cities[n % 10].id,
            name=f"screen {n}",
            timezone="Asia/Shanghai",
            tags=["lobby"] if n % 3 else [],
            status={},
            created_at=NOW,
        )
        screen.groups = [groups[(n % 10) * 2 + 1]]
        session.add(screen)
    group_ids = [g.id for g in groups]
    for c in range(args.campaigns):
        campaign = Campaign(
            organisation_id=root.id,
            name=f"Campaign {c}",
            timezone="Asia/Shanghai",
            start_date=NOW.date(),
            end_date=NOW.date() + timedelta(days=6),
            targets={"everyone": True},
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(campaign)
        session.flush()
        for p in range(args.publishes):
            at = NOW - timedelta(hours=args.publishes - p)
            content_version.bump(
                session,
                action="publish",
                now=at,
                effective_at=at + timedelta(minutes=1),
                campaign_id=campaign.id,
                snapshot=snapshot(campaign.id, root.id, args.entries, group_ids),
            )
    session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=50)
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--publishes", type=int, default=4)
    parser.add_argument("--screens", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="signage-bench-") as scratch:
        settings = load_settings(
            {"instance_path": Path(scratch), "secret_key": "bench"}, environ={}
        )
        engine = make_engine(settings)
        upgrade(engine)
        with Session(engine) as session:
            seed(session, args)
        with Session(engine) as session:

            def raw() -> object:
                return session.execute(select(Publication.id, Publication.snapshot)).all()

            def loaded() -> object:
                return load_published(session, NOW)

            content = load_published(session, NOW)
            base, load = timed(raw, args.repeat), timed(loaded, args.repeat)
            print(
                f"load_published: {args.campaigns} campaigns x {args.entries} entries, "
                f"{args.publishes} publishes each -> {len(content.rules)} live rules"
            )
            print(f"  raw publication rows  {base * 1000:8.1f} ms  (baseline)")
            print(f"  load_published        {load * 1000:8.1f} ms  ratio {load / base:5.2f}")

            screens = list(session.scalars(select(Screen).join(Screen.organisation)))

            def select_screens() -> object:
                return session.scalars(select(Screen).join(Screen.organisation)).all()

            def bulk() -> object:
                return screens_facts(session, screens, content)

            def one_by_one() -> object:
                return [screen_facts(session, s, content) for s in screens]

            assert bulk() == one_by_one()
            base = timed(select_screens, args.repeat)
            many = timed(bulk, args.repeat)
            single = timed(one_by_one, max(1, args.repeat // 2))
            print(f"screen facts for {len(screens)} screens:")
            print(f"  select the screens    {base * 1000:8.1f} ms  (baseline)")
            print(f"  screens_facts (bulk)  {many * 1000:8.1f} ms  ratio {many / base:5.2f}")
            print(f"  screen_facts x N      {single * 1000:8.1f} ms  ratio {single / base:5.2f}")
        engine.dispose()


if __name__ == "__main__":
    main()
