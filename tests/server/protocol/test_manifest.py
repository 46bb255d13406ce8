"""The manifest poll: shape, determinism, 304 without work, publishing ahead, commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.clock import SettableClock
from server.config import Settings
from server.db import get_db
from server.fleet.runtime import PlayerRuntime
from server.media.store import MediaStore
from tests.server.protocol.content import campaign, device, image_asset, pair, publish

MANIFEST = "/api/v1/player/manifest"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _week(session: Session, store: MediaStore, world, clock: SettableClock):  # type: ignore[no-untyped-def]
    red = image_asset(session, store, world.province, "red", clock.now())
    blue = image_asset(session, store, world.province, "blue", clock.now())
    return campaign(
        session,
        world.province,
        "Cybersecurity Week",
        clock.now(),
        playlists={"week": [(red, 10_000), (blue, 5_000)]},
        entries=[{"playlist": "week", "windows": [["08:00", "18:00"]]}],
    )


def test_manifest_shape_and_304(
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    settings: Settings,
    runtime: PlayerRuntime,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    publish(session, _week(session, store, world, clock), clock.now(), settings)
    token, screen_id = pair(client, world["operator"].headers, world.school.id)
    r = client.get(MANIFEST, headers=device(token))
    assert r.status_code == 200, r.json
    body = json.loads(r.data)
    assert r.headers["ETag"] == f'"{body["version"]}"'
    assert body["protocol"] == 1 and body["timezone"] == "Asia/Shanghai"
    # 2026-01-05T09:00Z is 17:00 in Shanghai: the local day began at 16:00Z the day before.
    assert body["valid_from"] == "2026-01-04T16:00:00.000Z"
    assert body["valid_until"] == "2026-01-06T16:00:00.000Z"
    segments = body["segments"]
    assert segments[0]["start"] == body["valid_from"] and segments[-1]["end"] == body["valid_until"]
    for a, b in zip(segments, segments[1:], strict=False):
        assert a["end"] == b["start"]
    playing = [s for s in segments if s["playlist"]]
    # The publish takes effect a poll interval plus the margin after 09:00Z (17:00 local),
    # so today's window starts then; tomorrow's runs 08:00–18:00 local (00:00–10:00Z).
    effective = clock.now() + timedelta(seconds=settings.poll_interval_s + settings.publish_margin_s)
    assert [(s["start"], s["end"]) for s in playing] == [
        (effective.isoformat().replace("+00:00", ".000Z"), "2026-01-05T10:00:00.000Z"),
        ("2026-01-06T00:00:00.000Z", "2026-01-06T10:00:00.000Z"),
    ]
    first = playing[0]
    assert first["playlist"] == "week" and first["campaign"] == "Cybersecurity Week"
    # The anchor is the occurrence's own start (08:00 local), shared by every screen.
    assert first["anchor"] == "2026-01-05T00:00:00.000Z"
    assert [i["duration_ms"] for i in first["items"]] == [10_000, 5_000]
    for item in first["items"]:
        asset = body["assets"][item["asset"]]
        assert asset["url"] == f"/media/{item['asset']}.jpg"
        assert (asset["width"], asset["height"]) == (1920, 1080)
        assert asset["media_type"] == "image/jpeg" and asset["size"] > 0
        assert store.exists(item["asset"])
    assert body["commands"] == [] and body["poll_interval_s"] == settings.poll_interval_s

    # The next poll with the ETag: 304, nothing compiled, nothing written.
    writes: list[str] = []

    def spy(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    engine = get_db(client.application).engine
    event.listen(engine, "before_cursor_execute", spy)
    compiles, loads = runtime.manifests.compiles, runtime.manifests.loads
    try:
        clock.advance(timedelta(minutes=5))
        r2 = client.get(MANIFEST, headers=device(token, **{"If-None-Match": r.headers["ETag"]}))
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert r2.status_code == 304 and r2.data == b""
    assert r2.headers["ETag"] == r.headers["ETag"]
    assert "Signage-Server-Time" in r2.headers
    assert writes == []
    assert (runtime.manifests.compiles, runtime.manifests.loads) == (compiles, loads)
