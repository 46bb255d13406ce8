"""The fleet dashboard's server time with a large fleet, against the bare /healthz answered
by the same app in the same run.

The app runs in process (Flask's test client: no network, no browser), on a SQLite file with
S screens in two organisations, every one reporting a status; the admin is signed in.

Run: .venv/bin/python benchmarks/console.py [--screens 2000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import insert

from server.accounts.models import Role
from server.accounts.organisations import create_organisation
from server.accounts.users import add_user
from server.app import create_app
from server.assets.models import Asset, AssetKind
from server.clock import SettableClock
from server.db import get_db
from server.migrations import upgrade
from server.screens.models import Screen

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PASSWORD = "benchmark-password"


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs, after two warm-up runs."""
    action()
    action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def build(folder: Path, screens: int) -> FlaskClient:
    url = f"sqlite:///{folder / 'signage.db'}"
    app = create_app(
        {"instance_path": str(folder), "database_url": url, "secret_key": "benchmark"},
        clock_=SettableClock(NOW),
    )
    upgrade(get_db(app).engine)
    with get_db(app).sessions() as session:
        province = create_organisation(session, "Province", None, NOW)
        session.flush()
        city = create_organisation(session, "City", province, NOW)
        add_user(session, "admin@bench.test", PASSWORD, province, Role.ADMIN, NOW)
        session.add(
            Asset(organisation_id=province.id, kind=AssetKind.IMAGE, sha256="a" * 64,
                  media_type="image/png", size=1, width=1, height=1, original_name="p.png",
                  title="Poster", slogan=None, created_at=NOW)
        )  # fmt: skip
        session.flush()
        session.execute(
            insert(Screen),
            [
                {
                    "organisation_id": (city if i % 2 else province).id,
                    "name": f"screen {i:05d}", "timezone": "Asia/Shanghai", "width": 1920,
                    "height": 1080, "location": "", "tags": [], "command_seq": 0,
                    "created_at": NOW, "last_seen_at": NOW - timedelta(seconds=5 + i % 300),
                    "status": {"asset": "a" * 64, "playlist": "week", "player_version": "0.1.0",
                               "disk_free_bytes": 10**9, "cache_shortage_bytes": 0,
                               "errors": ["slow"] if i % 10 == 0 else []},
                }
                for i in range(screens)
            ],
        )  # fmt: skip
        session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "admin@bench.test", "password": PASSWORD})
    page = client.get("/fleet")
    assert page.status_code == 200 and re.search(r'id="count-online"', page.text)
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        client = build(Path(folder), args.screens)
        refresh = {"HX-Request": "true"}
        health = timed(lambda: client.get("/healthz"), args.repeat)
        page = timed(lambda: client.get("/fleet"), args.repeat)
        partial = timed(
            lambda: client.get("/fleet?sort=-last_seen_at", headers=refresh), args.repeat
        )
        errors = timed(lambda: client.get("/fleet?state=errors", headers=refresh), args.repeat)
    print(f"{args.screens} screens, median of {args.repeat} runs (server time, in process)")
    print(f"  /healthz                      {health * 1000:8.2f} ms   1.0x")
    for label, value in (
        ("/fleet (whole page)", page),
        ("/fleet refresh (htmx)", partial),
        ("/fleet?state=errors refresh", errors),
    ):
        print(f"  {label:30}{value * 1000:8.2f} ms  {value / health:5.1f}x")


if __name__ == "__main__":
    main()
