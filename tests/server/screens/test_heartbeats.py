"""Heartbeats: every poll counts, writes are batched, last-seen never goes backwards."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from server.auth.actors import DEVICE_TOKEN_PREFIX, token_digest
from server.clock import SettableClock
from server.db import get_db
from server.delivery.runtime import PlayerRuntime
from server.screens.heartbeats import HeartbeatBuffer, parse_status
from server.screens.models import Screen
from tests.server.delivery.content import device, pair

MANIFEST = "/api/v1/player/manifest"


def test_parse_status_ignores_what_it_cannot_use() -> None:
    assert parse_status('{"asset":"ab","uptime_s":5}') == {"asset": "ab", "uptime_s": 5}
    for bad in (None, "", "not json", "[1,2]", '{"a":"' + "x" * 5000 + '"}', '{"é":1}'):
        assert parse_status(bad) is None


def test_buffer_keeps_the_latest_beat_and_status(clock: SettableClock) -> None:
    buffer = HeartbeatBuffer()
    t0 = clock.now()
    buffer.record(1, t0, {"asset": "a"})
    buffer.record(1, t0 + timedelta(seconds=30), None)  # no status: the last one stays
    buffer.record(1, t0 + timedelta(seconds=10), {"asset": "stale"})  # older: ignored
    beats = buffer.drain()
    assert beats[1].at == t0 + timedelta(seconds=30) and beats[1].status == {"asset": "a"}
    assert buffer.drain() == {}


def test_polls_are_heartbeats_written_in_one_flush(
    client: FlaskClient,
    session: Session,
    runtime: PlayerRuntime,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    token, screen_id = pair(client, world["operator"].headers, world.school.id)
    status = {"manifest": "x", "asset": "f" * 64, "playlist": "week", "player_version": "0.1.0"}
    r = client.get(MANIFEST, headers=device(token, **{"Signage-Status": json.dumps(status)}))
    etag = r.headers["ETag"]
    clock.advance(timedelta(seconds=30))
    r = client.get(
        MANIFEST,
        headers=device(token, **{"If-None-Match": etag, "Signage-Status": "{broken"}),
    )
    assert r.status_code == 304  # a broken status is ignored, the poll still counts
    assert session.get(Screen, screen_id).last_seen_at is None  # type: ignore[union-attr]
    assert runtime.heartbeats.flush() == 1
    session.rollback()
    row = session.get(Screen, screen_id)
    assert row is not None and row.last_seen_at == clock.now() and row.status == status

    # Another process flushed a later beat first: an older one never moves it back.
    runtime.heartbeats.record(screen_id, clock.now() - timedelta(minutes=5), {"asset": "old"})
    runtime.heartbeats.flush()
    session.rollback()
    row = session.get(Screen, screen_id)
    assert row is not None and row.last_seen_at == clock.now() and row.status == status

    r = client.get("/api/v1/fleet", headers=world["viewer"].headers)
    assert r.status_code == 200
    [shown] = r.json["items"]
    assert shown["online"] is True and shown["showing"] == "week (ffffffffffff)"
    assert shown["player_version"] == "0.1.0" and shown["paired"] is True
    clock.advance(timedelta(minutes=10))
    r = client.get("/api/v1/fleet?state=offline", headers=world["viewer"].headers)
    assert [s["id"] for s in r.json["items"]] == [screen_id]
    assert client.get("/api/v1/fleet", headers=world["outsider"].headers).json["items"] == []


def test_two_thousand_screens_polling_cost_a_few_writes(
    app: Flask,
    client: FlaskClient,
    session: Session,
    runtime: PlayerRuntime,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    """2,000 screens poll every 30 s for a simulated minute; the flush runs every 5 s.

    Every screen's last-seen is its latest poll as of the flush that follows it (so it
    is never more than one flush interval stale), and the database sees far fewer
    writes than polls: one UPDATE per flush, whatever the number of screens.
    """
    n, poll_s, flush_s = 2000, 30, 5
    tokens = {}
    for i in range(n):
        token = f"{DEVICE_TOKEN_PREFIX}load-{i}"
        screen = Screen(
            organisation_id=world.school.id,
            name=f"screen {i}",
            hardware_id=f"hw-{i}",
            timezone="Asia/Shanghai",
            device_token_hash=token_digest(token),
            tags=[],
            status={},
            command_seq=0,
            created_at=clock.now(),
        )
        session.add(screen)
        tokens[i] = token
    session.commit()
    ids = dict(zip(range(n), session.scalars(select(Screen.id).order_by(Screen.id)), strict=True))

    writes: list[int] = []

    def spy(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(len(params) if executemany else 1)

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", spy)
    start = clock.now()
    etags: dict[int, str] = {}
    polls = 0
    last_poll: dict[int, object] = {}
    try:
        for step in range(2 * poll_s // flush_s):  # two poll rounds, in flush windows
            window_start = start + timedelta(seconds=step * flush_s)
            polled = []
            for i in range(n):
                offset = (i * poll_s * 1000 // n) % (poll_s * 1000)  # spread over the interval
                at = (
                    start
                    + timedelta(milliseconds=offset)
                    + timedelta(seconds=poll_s * (step // (poll_s // flush_s)))
                )
                if not window_start <= at < window_start + timedelta(seconds=flush_s):
                    continue
                clock.set(at)
                headers = device(tokens[i], **({"If-None-Match": etags[i]} if i in etags else {}))
                r = client.get(MANIFEST, headers=headers)
                assert r.status_code in (200, 304)
                etags[i] = r.headers["ETag"]
                last_poll[i] = at
                polled.append(i)
                polls += 1
            clock.set(window_start + timedelta(seconds=flush_s))
            runtime.heartbeats.flush()
            session.rollback()  # a fresh snapshot, after the flush
            seen = dict(
                session.execute(
                    select(Screen.id, Screen.last_seen_at).where(
                        Screen.id.in_([ids[i] for i in polled])
                    )
                ).all()
            )
            assert all(seen[ids[i]] == last_poll[i] for i in polled), step
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert polls == 2 * n
    # The first round answers 200 (compiling once for the shared target set): still no writes.
    assert runtime.manifests.compiles == 1
    assert len(writes) * 20 <= polls, (len(writes), polls)
    assert len(writes) == 2 * poll_s // flush_s  # exactly one statement per flush
    assert sum(writes) == polls  # ...carrying every screen that polled in that window
