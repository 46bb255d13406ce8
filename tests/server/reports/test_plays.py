"""Proof of play: idempotent batches, implausible events refused, reports that add up."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.clock import SettableClock
from server.reports.models import PlayEvent
from server.screens.models import Screen
from server.storage import get_store
from tests.server.delivery.content import device, image_asset, pair

PLAYS = "/api/v1/player/plays"
REPORT = "/api/v1/reports/plays"


def _z(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _event(n: int, start: datetime, seconds: int = 10, **extra: str) -> dict[str, str]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "asset": "a" * 64,
        "playlist": "week",
        "campaign": "Cybersecurity Week",
        "start": _z(start),
        "end": _z(start + timedelta(seconds=seconds)),
        **extra,
    }


def test_a_repeated_batch_adds_nothing(
    client: FlaskClient,
    session: Session,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    token, _ = pair(client, world["operator"].headers, world.school.id)
    t0 = clock.now() - timedelta(hours=1)
    batch = {"events": [_event(i, t0 + timedelta(seconds=10 * i)) for i in range(12)]}
    r = client.post(PLAYS, json=batch, headers=device(token))
    assert r.status_code == 200 and r.json == {"accepted": 12, "duplicates": 0}
    r = client.post(PLAYS, json=batch, headers=device(token))
    assert r.json == {"accepted": 0, "duplicates": 12}
    mixed = {"events": batch["events"][:3] + [_event(99, t0)]}
    assert client.post(PLAYS, json=mixed, headers=device(token)).json == {
        "accepted": 1,
        "duplicates": 3,
    }
    assert session.scalar(select(func.count(PlayEvent.id))) == 13


def test_malformed_and_implausible_events_are_refused_naming_the_field(
    client: FlaskClient,
    session: Session,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    token, _ = pair(client, world["operator"].headers, world.school.id)
    t0 = clock.now() - timedelta(hours=1)
    good = _event(1, t0)
    r = client.post(
        PLAYS,
        json={"events": [good, {**_event(2, t0), "start": "yesterday"}]},
        headers=device(token),
    )
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "events[1].start"
    r = client.post(PLAYS, json={"events": [{**good, "asset": "nope"}]}, headers=device(token))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "events[0].asset"
    naive = {**good, "start": "2026-01-05T08:00:00"}
    r = client.post(PLAYS, json={"events": [naive]}, headers=device(token))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "events[0].start"
    implausible = [
        good,
        {**_event(3, t0), "end": _z(t0 - timedelta(seconds=1))},
        _event(4, t0, seconds=25 * 3600),
        _event(5, clock.now() + timedelta(minutes=10)),
    ]
    r = client.post(PLAYS, json={"events": implausible}, headers=device(token))
    assert r.status_code == 422
    assert r.json["errors"] == [
        {"field": "events[1].end", "reason": "before start"},
        {"field": "events[2].end", "reason": "more than 24 hours after start"},
        {"field": "events[3].end", "reason": "in the server's future"},
    ]
    too_many = {"events": [_event(i, t0) for i in range(1001)]}
    r = client.post(PLAYS, json=too_many, headers=device(token))
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "events"
    assert session.scalar(select(func.count(PlayEvent.id))) == 0  # nothing from any of them
    assert client.post(PLAYS, json={"events": [good]}).status_code == 401


def test_report_totals_match_the_events_and_outlive_deletions(
    client: FlaskClient,
    session: Session,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    poster = image_asset(session, get_store(client.application), world.province, "red", clock.now())
    lobby, lobby_id = pair(client, world["operator"].headers, world.school.id, name="Lobby")
    hall, _ = pair(
        client, world["operator"].headers, world.school.id, hardware_id="hw-2", name="Hall"
    )
    # Shanghai days: 2026-01-04 16:00Z starts the 5th; the events straddle that midnight.
    day_before = datetime.fromisoformat("2026-01-04T15:59:50+00:00")
    day_of = datetime.fromisoformat("2026-01-05T01:00:00+00:00")
    sent = {
        lobby: [
            _event(1, day_before, 10, asset=poster.sha256),
            _event(2, day_of, 10, asset=poster.sha256),
            _event(3, day_of, 5, playlist="other", campaign=""),
        ],
        hall: [_event(4, day_of, 20, asset=poster.sha256)],
    }
    for token, events in sent.items():
        assert client.post(PLAYS, json={"events": events}, headers=device(token)).status_code == 200
    query = "?since=2026-01-04&until=2026-01-06&timezone=Asia/Shanghai"
    r = client.get(REPORT + query, headers=world["viewer"].headers)
    assert r.status_code == 200, r.json
    assert r.json["plays"] == 4 and r.json["seconds"] == 45.0
    by = {(row["day"], row["screen_name"], row["playlist"]): row for row in r.json["rows"]}
    assert by[("2026-01-04", "Lobby", "week")]["plays"] == 1
    assert by[("2026-01-05", "Lobby", "week")]["asset_title"] == "red"
    assert by[("2026-01-05", "Hall", "week")]["seconds"] == 20.0
    r = client.get(REPORT + query + "&group_by=campaign", headers=world["viewer"].headers)
    assert {(x["campaign"], x["plays"]) for x in r.json["rows"]} == {
        ("", 1),
        ("Cybersecurity Week", 3),
    }
    r = client.get(
        REPORT + query + "&group_by=day,asset&format=csv", headers=world["viewer"].headers
    )
    assert r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert sum(int(x["plays"]) for x in rows) == 4
    assert {x["asset_sha256"] for x in rows} == {poster.sha256, "a" * 64}
    # Other trees see nothing; a bad grouping names the field.
    assert client.get(REPORT + query, headers=world["outsider"].headers).json["plays"] == 0
    r = client.get(REPORT + "?group_by=colour", headers=world["viewer"].headers)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "group_by"
    # The screen is deleted: its plays keep its name.
    screen = session.get(Screen, lobby_id)
    session.delete(screen)
    session.commit()
    r = client.get(REPORT + query + "&group_by=screen", headers=world["viewer"].headers)
    assert {(x["screen_name"], x["plays"], x["screen_id"] is None) for x in r.json["rows"]} == {
        ("Lobby", 3, True),
        ("Hall", 1, False),
    }


def test_until_names_the_last_day_and_the_csv_opens_in_excel_with_the_same_totals(
    client: FlaskClient,
    session: Session,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    lobby, _ = pair(client, world["operator"].headers, world.school.id, name="大堂")
    world.school.timezone = "Asia/Shanghai"
    session.commit()
    clock.set(datetime.fromisoformat("2026-01-08T00:00:00+00:00"))  # the plays are past
    # 2026-01-06 10:00 and 23:30 in Shanghai, and 2026-01-07 00:30 there.
    events = [
        _event(1, datetime.fromisoformat("2026-01-06T02:00:00+00:00"), 10, campaign="网络安全周"),
        _event(2, datetime.fromisoformat("2026-01-06T15:30:00+00:00"), 15, campaign="网络安全周"),
        _event(3, datetime.fromisoformat("2026-01-06T16:30:00+00:00"), 20, campaign="网络安全周"),
    ]
    assert client.post(PLAYS, json={"events": events}, headers=device(lobby)).status_code == 200
    who = world["viewer"].headers
    # No zone given: the organisation's, Shanghai; the 6th is included whole.
    query = f"?since=2026-01-06&until=2026-01-06&organisation_id={world.school.id}"
    r = client.get(REPORT + query, headers=who)
    assert r.status_code == 200, r.json
    assert r.json["timezone"] == "Asia/Shanghai"
    assert (r.json["plays"], r.json["seconds"]) == (2, 25.0)
    assert r.json["until"] == "2026-01-06T16:00:00Z"
    # In UTC the same dates cover 2026-01-06 00:00Z..2026-01-07 00:00Z: all three.
    r = client.get(REPORT + query + "&timezone=UTC", headers=who)
    assert (r.json["plays"], r.json["seconds"]) == (3, 45.0)
    totals = r.json
    r = client.get(REPORT + query + "&timezone=UTC&format=csv", headers=who)
    body = r.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert list(rows[0])[0] == "day"
    assert {x["campaign"] for x in rows} == {"网络安全周"}
    assert {x["screen_name"] for x in rows} == {"大堂"}
    assert sum(int(x["plays"]) for x in rows) == totals["plays"]
    assert sum(float(x["seconds"]) for x in rows) == totals["seconds"]
