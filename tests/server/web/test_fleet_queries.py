"""The dashboard's number of database queries does not grow with the fleet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from server.assets.models import Asset, AssetKind
from server.clock import SettableClock
from server.db import get_db
from server.screens.models import Group, GroupMember, Screen
from tests.factories import World
from tests.server.web.conftest import sign_in


@contextmanager
def counted(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def add_fleet(session: Session, world: World, clock: SettableClock, count: int, start: int) -> None:
    """`count` screens in two organisations and a group, half online, each reporting what it
    shows (an asset), its version and an error."""
    now = clock.now()
    asset = session.scalar(select(Asset).where(Asset.title == "Poster"))
    if asset is None:
        asset = Asset(
            organisation_id=world.province.id, kind=AssetKind.IMAGE, sha256="a" * 64,
            media_type="image/png", size=10, width=1, height=1, original_name="p.png",
            title="Poster", slogan=None, created_at=now,
        )  # fmt: skip
        session.add(asset)
        session.add(Group(organisation_id=world.province.id, name="lobby", created_at=now))
        session.flush()
    group = session.scalar(select(Group).where(Group.name == "lobby"))
    assert group is not None
    rows = [
        {
            "organisation_id": (world.city if i % 2 else world.province).id,
            "name": f"screen {i:05d}",
            "timezone": "Asia/Shanghai",
            "width": 1920,
            "height": 1080,
            "location": "",
            "tags": [],
            "status": {
                "asset": asset.sha256,
                "playlist": "week",
                "player_version": "0.1.0",
                "disk_free_bytes": 10**9,
                "cache_shortage_bytes": 0,
                "errors": ["disk slow"],
            },
            "command_seq": 0,
            "last_seen_at": now - timedelta(seconds=5 if i % 2 else 3600),
            "created_at": now,
        }
        for i in range(start, start + count)
    ]
    session.execute(insert(Screen), rows)
    ids = session.scalars(select(Screen.id).where(Screen.name >= f"screen {start:05d}")).all()
    session.execute(insert(GroupMember), [{"group_id": group.id, "screen_id": i} for i in ids])
    session.commit()


def test_dashboard_queries_are_the_same_for_10_and_1000_screens(
    app: Flask, client: FlaskClient, session: Session, world: World, clock: SettableClock
) -> None:
    sign_in(client, "admin@province.test")
    add_fleet(session, world, clock, 10, 0)
    refresh = {"HX-Request": "true"}
    client.get("/fleet")  # warm: nothing lazily loaded once is counted
    with counted(app) as small:
        page = client.get("/fleet")
    with counted(app) as small_refresh:
        client.get("/fleet?sort=-last_seen_at", headers=refresh)
    assert page.status_code == 200
    assert "Poster" in page.text and "screen 00009" in page.text
    add_fleet(session, world, clock, 990, 10)
    with counted(app) as large:
        page = client.get("/fleet")
    with counted(app) as large_refresh:
        partial = client.get("/fleet?sort=-last_seen_at&offset=50", headers=refresh)
    assert page.status_code == 200 and partial.status_code == 200
    assert 'id="count-online" translate="no">500<' in page.text
    assert page.text.count('class="state state-') == 50  # one page of the thousand
    assert len(large) == len(small), "\n".join(large)
    assert len(large_refresh) == len(small_refresh)
    with counted(app) as filtered:
        client.get(
            f"/fleet?state=errors&group_id=1&organisation_id={world.city.id}&q=screen",
            headers={"HX-Request": "true"},
        )
    assert len(filtered) <= len(small) + 1  # the group filter reads the group tree once
