"""The manifest poll: shape, determinism, 304 without work, publishing ahead, commands."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.clock import SettableClock
from server.config import Settings
from server.db import get_db
from server.delivery.runtime import PlayerRuntime
from server.media.store import MediaStore
from tests.server.delivery.content import campaign, device, image_asset, pair, publish

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
    effective = clock.now() + timedelta(
        seconds=settings.poll_interval_s + settings.publish_margin_s
    )
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


def test_publish_changes_the_etag_and_lands_at_the_announced_instant(
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    settings: Settings,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    token, _ = pair(client, world["operator"].headers, world.school.id)
    r = client.get(MANIFEST, headers=device(token))
    assert all(s["playlist"] is None for s in r.json["segments"])  # nothing published yet
    etag = r.headers["ETag"]
    clock.advance(timedelta(seconds=7))
    publication = publish(session, _week(session, store, world, clock), clock.now(), settings)
    r2 = client.get(MANIFEST, headers=device(token, **{"If-None-Match": etag}))
    assert r2.status_code == 200 and r2.headers["ETag"] != etag
    announced = publication.effective_at
    assert announced - clock.now() >= timedelta(seconds=settings.poll_interval_s)
    # Before the instant the screen plays what it played; from it on, the new content.
    starts = [s["start"] for s in r2.json["segments"] if s["playlist"] == "week"]
    assert starts[0] == announced.isoformat().replace("+00:00", ".000Z")
    before = [s for s in r2.json["segments"] if _instant(s["end"]) <= announced]
    assert before and all(s["playlist"] is None for s in before)


def test_same_rules_screen_and_day_give_the_same_bytes(
    app: Flask,
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    settings: Settings,
    runtime: PlayerRuntime,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    publish(session, _week(session, store, world, clock), clock.now(), settings)
    token, _ = pair(client, world["operator"].headers, world.school.id, hardware_id="a")
    other, _ = pair(client, world["operator"].headers, world.school.id, hardware_id="b")
    first = client.get(MANIFEST, headers=device(token))
    assert runtime.manifests.compiles == 1
    # A screen of the same target set shares the compiled part.
    assert client.get(MANIFEST, headers=device(other)).status_code == 200
    assert runtime.manifests.compiles == 1
    # Later the same day, with the cache lost: the very same bytes.
    runtime.manifests.clear()
    clock.advance(timedelta(hours=6))  # 23:00 in Shanghai
    again = client.get(MANIFEST, headers=device(token))
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    # The next local day is another document.
    clock.advance(timedelta(hours=1, seconds=1))
    tomorrow = client.get(
        MANIFEST, headers=device(token, **{"If-None-Match": first.headers["ETag"]})
    )
    assert tomorrow.status_code == 200
    assert tomorrow.json["valid_from"] == "2026-01-05T16:00:00.000Z"


def test_portrait_screens_get_portrait_variants(
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    settings: Settings,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    publish(session, _week(session, store, world, clock), clock.now(), settings)
    token, _ = pair(client, world["operator"].headers, world.school.id, width=1080, height=1920)
    body = client.get(MANIFEST, headers=device(token)).json
    sizes = {(a["width"], a["height"]) for a in body["assets"].values()}
    assert sizes == {(1080, 1920)}


def test_commands_change_the_manifest_until_acknowledged(
    client: FlaskClient,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    token, screen_id = pair(client, world["operator"].headers, world.school.id)
    etag = client.get(MANIFEST, headers=device(token)).headers["ETag"]
    url = f"/api/v1/screens/{screen_id}/commands"
    assert (
        client.post(url, json={"kind": "reboot"}, headers=world["operator"].headers).status_code
        == 422
    )
    assert (
        client.post(url, json={"kind": "refresh"}, headers=world["viewer"].headers).status_code
        == 403
    )
    assert (
        client.post(url, json={"kind": "refresh"}, headers=world["outsider"].headers).status_code
        == 404
    )
    r = client.post(url, json={"kind": "screenshot"}, headers=world["operator"].headers)
    assert r.status_code == 201 and r.json["kind"] == "screenshot" and r.json["acked_at"] is None
    command_id = r.json["id"]
    r = client.get(MANIFEST, headers=device(token, **{"If-None-Match": etag}))
    assert r.status_code == 200
    assert r.json["commands"] == [
        {"id": command_id, "kind": "screenshot", "issued_at": "2026-01-05T09:00:00.000Z"}
    ]
    etag = r.headers["ETag"]
    ack = f"/api/v1/player/commands/{command_id}/ack"
    assert (
        client.post(ack, json={"ok": True, "detail": "uploaded"}, headers=device(token)).status_code
        == 204
    )
    assert client.post(ack, json={"ok": True}, headers=device(token)).status_code == 204  # again
    r = client.get(MANIFEST, headers=device(token, **{"If-None-Match": etag}))
    assert r.status_code == 200 and r.json["commands"] == []
    listed = client.get(url, headers=world["viewer"].headers).json
    assert listed[0]["ok"] is True and listed[0]["detail"] == "uploaded"
    # Another screen cannot acknowledge it.
    other, _ = pair(client, world["operator"].headers, world.school.id, hardware_id="other")
    assert client.post(ack, json={"ok": False}, headers=device(other)).status_code == 404
