"""Two server processes, one on SQLite and one on PostgreSQL, given the same rules, screen
and day, answer with byte-identical manifests (and so the same ETag)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from server.accounts.models import Organisation
from server.accounts.organisations import create_organisation
from server.screens.models import Group, Screen
from tests.integration.conftest import ServerProcess, StartServer
from tests.server.delivery.content import campaign, image_asset, publish

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TIMEOUT = 10


def _build(server: ServerProcess) -> dict[str, str]:
    """The same content, made in the same order: a week with a theme day and a takeover."""
    server.set_clock(T0)
    admin = server.seed_admin()
    with server.session() as session:
        province = session.get(Organisation, admin.organisation_id)
        assert province is not None
        city = create_organisation(session, "City", province, T0)
        session.flush()
        campus = Group(organisation_id=province.id, name="campus", created_at=T0)
        session.add(campus)
        session.commit()
        store = server.store()
        red = image_asset(session, store, province, "red", T0)
        blue = image_asset(session, store, province, "blue", T0, size=(300, 900))
        gold = image_asset(session, store, city, "gold", T0)
        week = campaign(
            session,
            province,
            "网络安全宣传周",
            T0,
            playlists={"week": [(red, 10_000), (blue, 7_500)], "campus-day": [(blue, 5_000)]},
            entries=[
                {"playlist": "week", "windows": [["07:30", "21:00"]]},
                {
                    "playlist": "campus-day",
                    "first_date": date(2026, 1, 6),
                    "last_date": date(2026, 1, 6),
                    "targets": {"groups": [campus.id]},
                    "priority": 5,
                },
            ],
        )
        local = campaign(
            session,
            city,
            "City notice",
            T0,
            playlists={"notice": [(gold, 15_000)]},
            entries=[{"playlist": "notice", "windows": [["12:00", "13:00"]], "priority": 10}],
        )
        publish(session, week, T0, server.settings())
        publish(session, local, T0 + timedelta(seconds=1), server.settings())
        city_id, campus_id = city.id, campus.id

    hello = {"hardware_id": "hw-1", "player_version": "0.1.0", "width": 1920, "height": 1080}
    r = requests.post(server.url("/api/v1/player/hello"), json=hello, timeout=TIMEOUT)
    claim = {
        "code": r.json()["pairing_code"],
        "organisation_id": city_id,
        "name": "Station hall",
        "group_ids": [campus_id],
        "timezone": "Asia/Shanghai",
    }
    r = requests.post(
        server.url("/api/v1/pairings/claim"), json=claim, headers=admin.headers, timeout=TIMEOUT
    )
    assert r.status_code == 201, r.text
    r = requests.post(server.url("/api/v1/player/hello"), json=hello, timeout=TIMEOUT)
    return {"Authorization": f"Bearer {r.json()['device_token']}"}


def test_sqlite_and_postgresql_servers_agree_byte_for_byte(
    start_server: StartServer, fresh_pg_database: Callable[[], str]
) -> None:
    lite = start_server("sqlite")
    pg = start_server("postgres", database_url=fresh_pg_database())
    answers = []
    for server in (lite, pg):
        device = _build(server)
        server.set_clock(T0 + timedelta(hours=2))
        first = requests.get(server.url("/api/v1/player/manifest"), headers=device, timeout=TIMEOUT)
        assert first.status_code == 200, first.text
        # Later the same local day, after a restart (caches lost): the same bytes again.
        server.restart()
        server.set_clock(T0 + timedelta(hours=6))
        again = requests.get(server.url("/api/v1/player/manifest"), headers=device, timeout=TIMEOUT)
        assert again.content == first.content and again.headers["ETag"] == first.headers["ETag"]
        answers.append(first)
        with server.session() as session:
            assert session.scalar(select(Screen.name)) == "Station hall"
    on_sqlite, on_pg = answers
    assert on_sqlite.headers["ETag"] == on_pg.headers["ETag"]
    assert on_sqlite.content == on_pg.content
    body = on_sqlite.json()
    playlists = [s["playlist"] for s in body["segments"]]
    assert {"week", "notice", "campus-day"} <= set(playlists)
    assert len(body["assets"]) == 3
