"""The player protocol against a real server process, over real HTTP.

pairing ▸ claim ▸ token ▸ manifest ▸ 304 ▸ publish ▸ a new ETag whose change lands at
the announced instant (and no later poll is needed for it) ▸ revoke ▸ 401.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from server.accounts.models import Organisation
from server.campaigns.models import Publication
from server.config import env_name
from server.screens.models import Screen
from tests.integration.conftest import VENV_BIN, StartServer
from tests.server.delivery.content import campaign, image_asset, publish

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
TIMEOUT = 10


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _playing(body: dict, at: datetime) -> str | None:  # type: ignore[type-arg]
    [segment] = [s for s in body["segments"] if _at(s["start"]) <= at < _at(s["end"])]
    playlist: str | None = segment["playlist"]
    return playlist


def test_pair_poll_publish_revoke(start_server: StartServer) -> None:
    server = start_server(settings={"poll_interval_s": 30, "publish_margin_s": 30})
    server.set_clock(T0)
    admin = server.seed_admin()
    http = requests.Session()

    # A new player says hello and shows its code; an operator claims it; it collects a token.
    hello = {
        "hardware_id": "b8:27:eb:00:00:01",
        "player_version": "0.1.0",
        "width": 1920,
        "height": 1080,
    }
    r = http.post(server.url("/api/v1/player/hello"), json=hello, timeout=TIMEOUT)
    assert r.status_code == 200 and r.json()["state"] == "pairing"
    assert int(r.headers["Signage-Server-Time"]) == int(T0.timestamp() * 1000)
    claim = {
        "code": r.json()["pairing_code"],
        "organisation_id": admin.organisation_id,
        "name": "Lobby",
        "timezone": "Asia/Shanghai",
    }
    r = http.post(
        server.url("/api/v1/pairings/claim"), json=claim, headers=admin.headers, timeout=TIMEOUT
    )
    assert r.status_code == 201, r.text
    r = http.post(server.url("/api/v1/player/hello"), json=hello, timeout=TIMEOUT)
    assert r.json()["state"] == "paired"
    device = {"Authorization": f"Bearer {r.json()['device_token']}"}

    # First poll: the document; the next: 304 on its ETag.
    r = http.get(server.url("/api/v1/player/manifest"), headers=device, timeout=TIMEOUT)
    assert r.status_code == 200
    etag = r.headers["ETag"]
    assert all(s["playlist"] is None for s in r.json()["segments"])
    server.set_clock(T0 + timedelta(seconds=30))
    r = http.get(
        server.url("/api/v1/player/manifest"),
        headers={**device, "If-None-Match": etag},
        timeout=TIMEOUT,
    )
    assert r.status_code == 304 and r.content == b""
    assert int(r.headers["Signage-Server-Time"]) == int(
        (T0 + timedelta(seconds=30)).timestamp() * 1000
    )

    # An operator publishes; the server's clock says when.
    published_at = T0 + timedelta(minutes=1)
    server.set_clock(published_at)
    with server.session() as session:
        org = session.scalar(select(Organisation))
        assert org is not None
        poster = image_asset(session, server.store(), org, "red", published_at)
        row = campaign(
            session,
            org,
            "Cybersecurity Week",
            published_at,
            playlists={"week": [(poster, 10_000)]},
            entries=[{"playlist": "week"}],
        )
        publication = publish(session, row, published_at, server.settings())
        announced = publication.effective_at
    assert announced == published_at + timedelta(seconds=60)

    # The next poll, before the instant, gets a new document with the change scheduled in it.
    server.set_clock(published_at + timedelta(seconds=29))
    r = http.get(
        server.url("/api/v1/player/manifest"),
        headers={**device, "If-None-Match": etag},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200 and r.headers["ETag"] != etag
    body = r.json()
    new_etag = r.headers["ETag"]
    assert _playing(body, announced - timedelta(milliseconds=1)) is None
    assert _playing(body, announced) == "week"
    [item] = next(s for s in body["segments"] if s["playlist"] == "week")["items"]
    media = http.get(server.url(body["assets"][item["asset"]]["url"]), timeout=TIMEOUT)
    assert media.status_code == 200 and media.headers["Cache-Control"].endswith("immutable")

    # Past the instant nothing new is needed: the screen already holds the change.
    server.set_clock(announced + timedelta(seconds=5))
    r = http.get(
        server.url("/api/v1/player/manifest"),
        headers={**device, "If-None-Match": new_etag},
        timeout=TIMEOUT,
    )
    assert r.status_code == 304

    # Revoked: 401 on every player route, and the player can pair again.
    screen_id = body_screen_id(server)
    r = http.delete(
        server.url(f"/api/v1/screens/{screen_id}/device-token"),
        headers=admin.headers,
        timeout=TIMEOUT,
    )
    assert r.status_code == 204
    for method, path in (("GET", "/api/v1/player/manifest"), ("POST", "/api/v1/player/plays")):
        r = http.request(
            method, server.url(path), headers=device, json={"events": []}, timeout=TIMEOUT
        )
        assert r.status_code == 401 and r.headers["Content-Type"] == "application/problem+json"
    r = http.post(server.url("/api/v1/player/hello"), json=hello, timeout=TIMEOUT)
    assert r.json()["state"] == "pairing"


def body_screen_id(server) -> int:  # type: ignore[no-untyped-def]
    with server.session() as session:
        screen_id = session.scalar(select(Screen.id).where(Screen.name == "Lobby"))
    assert screen_id is not None
    return int(screen_id)


def test_heartbeats_reach_the_database_and_the_fleet_table(start_server: StartServer) -> None:
    # A long flush interval: what is seen must come from the flush at exit.
    server = start_server(settings={"heartbeat_flush_s": 300})
    server.set_clock(T0)
    admin = server.seed_admin()
    enrol = requests.post(
        server.url(f"/api/v1/organisations/{admin.organisation_id}/enrolment-tokens"),
        json={"expires_at": "2026-02-01T00:00:00Z", "max_uses": 10},
        headers=admin.headers,
        timeout=TIMEOUT,
    )
    assert enrol.status_code == 201, enrol.text
    hello = {
        "hardware_id": "hw-7",
        "width": 1280,
        "height": 720,
        "name": "Gate 7",
        "enrol_token": enrol.json()["token"],
    }
    r = requests.post(server.url("/api/v1/player/hello"), json=hello, timeout=TIMEOUT)
    assert r.status_code == 201
    device = {
        "Authorization": f"Bearer {r.json()['device_token']}",
        "Signage-Status": '{"playlist":"week","asset":"' + "c" * 64 + '"}',
    }
    assert requests.get(server.url("/api/v1/player/manifest"), headers=device, timeout=TIMEOUT).ok
    with server.session() as session:
        assert session.scalar(select(Screen.last_seen_at)) is None  # buffered, not yet written
    assert server.stop() == 0
    with server.session() as session:
        assert session.scalar(select(Screen.last_seen_at)) == T0  # flushed at exit

    out = subprocess.run(
        [str(VENV_BIN / "signage"), "screens"],
        env=server.env,  # the server's clock: still T0, so the screen is online
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Gate 7" in out and "Province" in out and "week (cccccccccccc)" in out
    assert "2026-01-05 09:00:00Z (0s ago)" in out and "1 screens, 1 online" in out
    later = subprocess.run(
        [str(VENV_BIN / "signage"), "screens"],
        env={**server.env, env_name("clock_file"): ""},  # the real clock: long offline
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "offline" in later and "unknown" in later and "week" not in later
    # The same instance comes back on the same port.
    server.start()
    assert requests.get(server.url("/api/v1/player/manifest"), headers=device, timeout=TIMEOUT).ok
    with server.session() as session:
        assert session.scalar(select(Publication.id)) is None
