"""Screens: pre-registration, validation, filters, online status, scoping and audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.models import AuditEvent
from tests.server.api import objects

URL = "/api/v1/screens"


def fields(r: Any) -> dict[str, str]:
    assert r.mimetype == "application/problem+json", r.data
    return {e["field"]: e["reason"] for e in r.json.get("errors", [])}


def test_create_get_update_delete_with_audit(client: FlaskClient, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    h = world["operator"].headers
    campus = objects.group(session, world.province, "campus", world.school.created_at)
    body = {
        "name": "Lobby left",
        "organisation_id": world.school.id,
        "timezone": "Asia/Shanghai",
        "width": 1080,
        "height": 1920,
        "location": "Main hall",
        "tags": ["lobby", "ground-floor", "lobby"],
        "group_ids": [campus.id],
    }
    r = client.post(URL, json=body, headers=h)
    assert r.status_code == 201, r.json
    screen = r.json
    assert screen["orientation"] == "portrait"
    assert screen["tags"] == ["lobby", "ground-floor"]
    assert screen["group_ids"] == [campus.id]
    assert screen["online"] is False and screen["last_seen_at"] is None
    assert screen["paired"] is False and screen["status"] == {}

    r = client.get(f"{URL}/{screen['id']}", headers=world["viewer"].headers)
    assert r.status_code == 200 and r.json == screen

    r = client.patch(
        f"{URL}/{screen['id']}", json={"tags": ["hall"], "width": 3840, "height": 2160}, headers=h
    )
    assert r.status_code == 200, r.json
    assert r.json["tags"] == ["hall"] and r.json["orientation"] == "landscape"
    assert r.json["name"] == "Lobby left"  # untouched fields stay

    r = client.delete(f"{URL}/{screen['id']}", headers=h)
    assert r.status_code == 204
    assert client.get(f"{URL}/{screen['id']}", headers=h).status_code == 404

    session.rollback()
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "screen").order_by(AuditEvent.id)
    ).all()
    assert [a.action for a in rows] == ["create", "update", "delete"]
    assert all(a.actor == "operator@province.test" for a in rows)
    assert rows[1].summary["before"]["tags"] == ["lobby", "ground-floor"]
    assert rows[1].summary["after"]["tags"] == ["hall"]
    assert rows[0].organisation_id == world.school.id


def test_bad_input_names_the_field(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    h = world["operator"].headers
    good = {"name": "Gate", "organisation_id": world.school.id}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"organisation_id": world.school.id}, "name"),
        ({**good, "width": "wide"}, "width"),
        ({**good, "width": 0}, "width"),
        ({**good, "name": "x" * 201}, "name"),
        ({**good, "colour": "red"}, "colour"),
        ({**good, "timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({**good, "timezone": "../../etc/passwd"}, "timezone"),
        ({**good, "tags": ["has space"]}, "tags[0]"),
        ({**good, "tags": ["ok", "x" * 51]}, "tags[1]"),
        ({**good, "tags": [f"t{i}" for i in range(51)]}, "tags"),
        ({**good, "group_ids": [999_999]}, "group_ids[0]"),
        ({**good, "organisation_id": 2**40}, "organisation_id"),
        ({**good, "location": "hall\u0000"}, "location"),  # PostgreSQL cannot store NUL
        ({**good, "tags": ["ok", "\ud800"]}, "tags[1]"),  # nor can UTF-8 a lone surrogate
    ]
    for body, field in cases:
        r = client.post(URL, json=body, headers=h)
        assert r.status_code == 422, (body, r.json)
        assert field in fields(r), (body, r.json)
    r = client.post(URL, json=good, headers=h)
    assert r.status_code == 201
    r = client.post(URL, json=good, headers=h)
    assert r.status_code == 409 and "name" in fields(r)


def test_patch_refuses_null_and_unknown_fields(
    client: FlaskClient,
    world,  # type: ignore[no-untyped-def]
    session: Session,
    clock,  # type: ignore[no-untyped-def]
) -> None:
    s = objects.screen(session, world.school, "Hall", clock.now())
    h = world["operator"].headers
    r = client.patch(f"{URL}/{s.id}", json={"name": None}, headers=h)
    assert r.status_code == 422 and "name" in fields(r)
    r = client.patch(f"{URL}/{s.id}", json={"organisation_id": world.city.id}, headers=h)
    assert r.status_code == 422 and fields(r)["organisation_id"] == "unknown field"
    r = client.patch(f"{URL}/{s.id}", json={"group_ids": []}, headers=h)
    assert r.status_code == 200 and r.json["group_ids"] == []


def test_list_filters_sort_and_pages(client: FlaskClient, world, session: Session, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    campus = objects.group(session, world.province, "campus", now)
    halls = objects.group(session, world.school, "halls", now, parent=campus)
    fresh = now - timedelta(seconds=30)  # default: 30 s polls, offline after 3 missed
    stale = now - timedelta(seconds=91)
    objects.screen(session, world.school, "A_1 hall", now, tags=["hall"], groups=[halls])
    objects.screen(session, world.school, "B%2 gate", now, tags=["gate"], last_seen_at=fresh)
    objects.screen(session, world.city, "C 3 gate", now, tags=["gate", "hall"], last_seen_at=stale)
    objects.screen(session, world.other, "D foreign", now, tags=["gate"], last_seen_at=fresh)
    h = world["viewer"].headers

    def names(query: str) -> list[str]:
        r = client.get(f"{URL}?{query}", headers=h)
        assert r.status_code == 200, r.json
        return [s["name"] for s in r.json["items"]]

    assert names("sort=name") == ["A_1 hall", "B%2 gate", "C 3 gate"]
    assert names("sort=-name&limit=2") == ["C 3 gate", "B%2 gate"]
    r = client.get(f"{URL}?sort=name&limit=1&offset=1", headers=h)
    assert r.json["total"] == 3 and [s["name"] for s in r.json["items"]] == ["B%2 gate"]
    assert names(f"organisation_id={world.city.id}") == ["C 3 gate"]
    assert names("tag=gate&sort=name") == ["B%2 gate", "C 3 gate"]
    assert names("tag=hall&sort=name") == ["A_1 hall", "C 3 gate"]
    assert names("tag=hal") == []
    assert names("name=_") == ["A_1 hall"]  # LIKE wildcards are escaped
    assert names("name=%25") == ["B%2 gate"]
    assert names("online=true") == ["B%2 gate"]
    assert names("online=false&sort=name") == ["A_1 hall", "C 3 gate"]
    assert names(f"group_id={campus.id}") == ["A_1 hall"]  # through the nested group
    r = client.get(f"{URL}?online=true", headers=h)
    assert r.json["items"][0]["online"] is True and r.json["items"][0]["last_seen_at"]

    clock.advance(timedelta(seconds=61))  # the fresh screen is now 91 s old
    assert names("online=true") == []

    for bad, field in [
        ("sort=secret", "sort"),
        ("limit=0", "limit"),
        ("online=maybe", "online"),
        ("name=a%00b", "name"),
    ]:
        r = client.get(f"{URL}?{bad}", headers=h)
        assert r.status_code == 422 and field in fields(r), bad
    r = client.get(f"{URL}?tag=no%20spaces", headers=h)
    assert r.status_code == 422 and "tag" in fields(r)


def test_scoping_and_roles(client: FlaskClient, world, session: Session, clock) -> None:  # type: ignore[no-untyped-def]
    province_screen = objects.screen(session, world.province, "HQ", clock.now())
    school_screen = objects.screen(session, world.school, "Gate", clock.now())
    city = world["city_operator"].headers
    assert client.get(f"{URL}/{province_screen.id}", headers=city).status_code == 404
    assert client.get(f"{URL}/{school_screen.id}", headers=city).status_code == 200
    r = client.patch(f"{URL}/{province_screen.id}", json={"location": "x"}, headers=city)
    assert r.status_code == 404
    r = client.get(URL, headers=city)
    assert [s["name"] for s in r.json["items"]] == ["Gate"]
    body = {"name": "New", "organisation_id": world.province.id}
    assert client.post(URL, json=body, headers=city).status_code == 404
    assert client.post(URL, json=body, headers=world["viewer"].headers).status_code == 403
    assert (
        client.delete(f"{URL}/{school_screen.id}", headers=world["viewer"].headers).status_code
        == 403
    )
    assert client.get(URL).status_code == 401
