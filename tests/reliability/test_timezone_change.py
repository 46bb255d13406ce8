"""An operator moves a screen to another time zone: its next poll gets a new ETag (not a
304 for the old document), and its local day, and a screen-local theme day with it, now
start at the new zone's midnight. On the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.storage import get_store
from tests.conftest import T0
from tests.server.delivery.content import campaign, device, image_asset, pair, publish


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_new_time_zone_gives_a_new_etag_and_moves_midnight(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world,  # type: ignore[no-untyped-def]
) -> None:
    assert T0 == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai, 04:00 in New York
    org: Organisation = world.school
    store = get_store(app)
    week = image_asset(session, store, org, "red", T0)
    theme = image_asset(session, store, org, "blue", T0)
    row = campaign(
        session,
        org,
        "Theme days",
        T0,
        playlists={"week": [(week, 10_000)], "theme": [(theme, 10_000)]},
        entries=[
            {"playlist": "week"},
            {
                "playlist": "theme",
                "first_date": date(2026, 1, 6),
                "last_date": date(2026, 1, 6),
                "screen_local": True,
                "priority": 10,
            },
        ],
    )
    publish(session, row, T0, app.config["SIGNAGE"], immediate=False)
    token, screen_id = pair(client, world["operator"].headers, org.id, timezone="Asia/Shanghai")

    def theme_start(manifest: dict[str, object]) -> datetime:
        segments = manifest["segments"]
        assert isinstance(segments, list)
        return min(instant(s["start"]) for s in segments if s["playlist"] == "theme")

    first = client.get("/api/v1/player/manifest", headers=device(token))
    assert first.status_code == 200, first.json
    etag = first.headers["ETag"]
    assert instant(first.json["valid_from"]) == datetime(2026, 1, 4, 16, tzinfo=UTC)
    assert theme_start(first.json) == datetime(2026, 1, 5, 16, tzinfo=UTC)
    same = client.get("/api/v1/player/manifest", headers=device(token, **{"If-None-Match": etag}))
    assert same.status_code == 304

    moved = client.patch(
        f"/api/v1/screens/{screen_id}",
        json={"timezone": "America/New_York"},
        headers=world["operator"].headers,
    )
    assert moved.status_code == 200, moved.json

    after = client.get("/api/v1/player/manifest", headers=device(token, **{"If-None-Match": etag}))
    assert after.status_code == 200, "the old document is no longer the screen's"
    assert after.headers["ETag"] != etag
    assert after.json["timezone"] == "America/New_York"
    assert instant(after.json["valid_from"]) == datetime(2026, 1, 5, 5, tzinfo=UTC)
    assert theme_start(after.json) == datetime(2026, 1, 6, 5, tzinfo=UTC)
    again = client.get(
        "/api/v1/player/manifest", headers=device(token, **{"If-None-Match": after.headers["ETag"]})
    )
    assert again.status_code == 304
