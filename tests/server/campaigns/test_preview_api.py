"""GET /screens/{id}/timeline and the facts previews are built on."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.campaigns.publications import load_published, screen_facts, screens_facts
from server.clock import SettableClock
from server.screens.models import Screen
from tests.server.api import objects

API = "/api/v1"


def published_week(client: FlaskClient, session: Session, world: Any) -> dict[str, Any]:
    """A campus group in School (inside a parent group), a screen in it, a lobby screen, and a
    published campaign: `week` all week, `campus` for the campus group on the 6th."""
    now = world.city.created_at
    parent = objects.group(session, world.school, "all-schools", now)
    campus = objects.group(session, world.school, "campus", now, parent=parent)
    gate = objects.screen(session, world.school, "Gate", now, groups=[campus])
    lobby = objects.screen(session, world.city, "Lobby", now, tags=["lobby"])
    week = objects.playlist(
        session, world.city, "week", now, assets=[objects.asset(session, world.city, "w", now)]
    )
    day = objects.playlist(
        session, world.city, "campus", now, assets=[objects.asset(session, world.city, "c", now)]
    )
    h = world["approver"].headers
    r = client.post(
        f"{API}/campaigns",
        json={
            "name": "Week",
            "organisation_id": world.city.id,
            "timezone": "Asia/Shanghai",
            "start_date": "2026-01-05",
            "end_date": "2026-01-11",
        },
        headers=h,
    )
    campaign_id = r.json["id"]
    for body in (
        {"playlist_id": week.id},
        {
            "playlist_id": day.id,
            "first_date": "2026-01-06",
            "last_date": "2026-01-06",
            "targets": {"groups": [parent.id]},
            "priority": 10,
        },
    ):
        r = client.post(f"{API}/campaigns/{campaign_id}/entries", json=body, headers=h)
        assert r.status_code == 201, r.json
    assert client.post(f"{API}/campaigns/{campaign_id}/publish", headers=h).status_code == 200
    return {"gate": gate, "lobby": lobby, "parent": parent, "campus": campus}


def timeline(client: FlaskClient, screen: Screen, who: Any, start: str, end: str) -> Any:
    return client.get(
        f"{API}/screens/{screen.id}/timeline",
        query_string={"from": start, "to": end},
        headers=who.headers,
    )


def test_timeline_names_the_winner_and_the_rules_it_beat(
    client: FlaskClient, session: Session, world: Any
) -> None:
    made = published_week(client, session, world)
    r = timeline(
        client,
        made["gate"],
        world["viewer"],
        "2026-01-06T00:00:00+08:00",
        "2026-01-08T00:00:00+08:00",
    )
    assert r.status_code == 200, r.json
    segments = r.json["segments"]
    assert [(s["start"], s["playlist"]) for s in segments] == [
        ("2026-01-05T16:00:00Z", "campus"),
        ("2026-01-06T16:00:00Z", "week"),
    ]
    first = segments[0]
    assert first["campaign"] == "Week" and first["default"] is False
    assert first["rule"]["entry"] == 1 and first["rule"]["priority"] == 10
    assert "on 2026-01-06" in first["rule"]["description"]
    assert [b["entry"] for b in first["beaten"]] == [0]
    assert [i["title"] for i in first["items"]] == ["c"]
    # The lobby is in no group: it gets `week` on the 6th too.
    r = timeline(
        client,
        made["lobby"],
        world["viewer"],
        "2026-01-06T00:00:00+08:00",
        "2026-01-07T00:00:00+08:00",
    )
    assert [s["playlist"] for s in r.json["segments"]] == ["week"]


def test_timeline_bounds_and_scope(client: FlaskClient, session: Session, world: Any) -> None:
    made = published_week(client, session, world)
    gate = made["gate"]
    r = timeline(client, gate, world["viewer"], "2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "to"
    r = timeline(client, gate, world["viewer"], "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "to"
    r = timeline(client, gate, world["viewer"], "2026-01-01T00:00:00", "2026-01-02T00:00:00Z")
    assert r.status_code == 422 and "from" in r.json["errors"][0]["field"]
    r = client.get(f"{API}/screens/{gate.id}/timeline", headers=world["viewer"].headers)
    assert r.status_code == 422
    r = timeline(client, gate, world["outsider"], "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z")
    assert r.status_code == 404
    r = client.get(
        f"{API}/screens/{gate.id}/timeline",
        query_string={"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"},
    )
    assert r.status_code == 401


def test_default_playlist_fills_the_gaps(client: FlaskClient, session: Session, world: Any) -> None:
    made = published_week(client, session, world)
    now = world.city.created_at
    fallback = objects.playlist(
        session,
        world.province,
        "house",
        now,
        assets=[objects.asset(session, world.province, "h", now)],
        is_default=True,
    )
    r = timeline(
        client,
        made["lobby"],
        world["viewer"],
        "2026-01-11T12:00:00+08:00",
        "2026-01-12T12:00:00+08:00",
    )
    segments = r.json["segments"]
    assert [(s["playlist"], s["default"]) for s in segments] == [
        ("week", False),
        ("house", True),
    ]
    assert segments[1]["start"] == "2026-01-11T16:00:00Z" and segments[1]["rule"] is None
    assert segments[1]["playlist_key"] == f"default.l{fallback.id}"


def test_screen_facts_one_and_many_agree(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    made = published_week(client, session, world)
    session.rollback()
    content = load_published(session, clock.now())
    screens = [session.get(Screen, made["gate"].id), session.get(Screen, made["lobby"].id)]
    assert all(s is not None for s in screens)
    many = screens_facts(session, screens, content)  # type: ignore[arg-type]
    one = [screen_facts(session, s, content) for s in screens]  # type: ignore[arg-type]
    assert many == one
    gate = one[0]
    assert gate.groups == {made["campus"].id, made["parent"].id}
    assert gate.org_path == (world.province.id, world.city.id, world.school.id)
    assert gate.timezone == "Asia/Shanghai" and gate.default_playlist is None
    assert one[1].tags == {"lobby"}


def test_timeline_says_why_by_name_a_group_target_beats_all(
    client: FlaskClient, session: Session, world: Any
) -> None:
    """Equal priority: the campus entry wins on the Gate by specificity, and says so."""
    now = world.city.created_at
    campus = objects.group(session, world.school, "campus", now)
    gate = objects.screen(session, world.school, "Gate", now, groups=[campus])
    lists = [
        objects.playlist(
            session, world.city, name, now, assets=[objects.asset(session, world.city, name, now)]
        )
        for name in ("week", "campus")
    ]
    h = world["approver"].headers
    r = client.post(
        f"{API}/campaigns",
        json={
            "name": "Week",
            "organisation_id": world.city.id,
            "timezone": "Asia/Shanghai",
            "start_date": "2026-01-05",
            "end_date": "2026-01-11",
        },
        headers=h,
    )
    campaign_id = r.json["id"]
    for body in (
        {"playlist_id": lists[0].id},
        {"playlist_id": lists[1].id, "targets": {"groups": [campus.id]}},
    ):
        r = client.post(f"{API}/campaigns/{campaign_id}/entries", json=body, headers=h)
        assert r.status_code == 201, r.json
    assert client.post(f"{API}/campaigns/{campaign_id}/publish", headers=h).status_code == 200
    r = timeline(
        client, gate, world["viewer"], "2026-01-06T00:00:00+08:00", "2026-01-06T12:00:00+08:00"
    )
    (seg,) = r.json["segments"]
    assert seg["playlist"] == "campus" and seg["why"] == "specificity"
    assert seg["rule"]["specificity"] == "group"
    assert [(b["specificity"], b["lost_on"]) for b in seg["beaten"]] == [("all", "specificity")]
    # The same screen, the first campaign's entry alone: the only rule.
    lobby = objects.screen(session, world.city, "Lobby", now)
    r = timeline(
        client, lobby, world["viewer"], "2026-01-06T00:00:00+08:00", "2026-01-06T12:00:00+08:00"
    )
    (seg,) = r.json["segments"]
    assert seg["why"] == "only rule" and seg["rule"]["specificity"] == "all"
    assert seg["beaten"] == []
