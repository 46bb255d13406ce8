"""Two app processes on one database (as two nodes are): each keeps its own manifest cache,
keyed by the content version read at each poll, so a publish recorded through one is
never hidden by what the other has cached."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.app import create_app
from server.clock import SettableClock
from server.config import Settings
from server.db import get_db
from server.delivery.runtime import player_runtime
from server.media.store import MediaStore
from tests.server.delivery.content import campaign, device, image_asset, pair, publish


@pytest.fixture
def other(app: Flask, clock: SettableClock) -> Iterator[Flask]:
    """A second app on the same settings, database and store: another node."""
    second = create_app(app.config["SIGNAGE"], clock_=clock)
    second.config["TESTING"] = True
    yield second
    get_db(second).engine.dispose()


def test_a_publish_through_one_process_is_seen_by_the_others_cache(
    app: Flask,
    other: Flask,
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    settings: Settings,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    green = image_asset(session, store, world.province, "green", clock.now())
    red = image_asset(session, store, world.province, "red", clock.now())
    first = campaign(
        session,
        world.province,
        "Week",
        clock.now(),
        playlists={"p": [(green, 10_000)]},
        entries=[{"playlist": "p"}],
    )
    publish(session, first, clock.now(), settings)
    token, _ = pair(client, world["operator"].headers, world.school.id)
    b = other.test_client()
    before = b.get("/api/v1/player/manifest", buffered=True, headers=device(token))
    assert before.status_code == 200
    assert player_runtime(other).manifests.loads == 1  # B's cache holds version 1 now

    second = campaign(
        session,
        world.province,
        "Notice",
        clock.now(),
        playlists={"n": [(red, 10_000)]},
        entries=[{"playlist": "n", "priority": 10}],
    )
    publish(session, second, clock.now(), settings)  # recorded through A's database session
    after = b.get(
        "/api/v1/player/manifest",
        buffered=True,
        headers={**device(token), "If-None-Match": before.headers["ETag"]},
    )
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert player_runtime(other).manifests.loads == 2
    assert len(after.json["segments"]) > len(before.json["segments"]) or (
        after.json["assets"] != before.json["assets"]
    )
