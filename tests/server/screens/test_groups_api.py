"""Groups: nesting rules and cycles, membership, screens of nested groups, scoping."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.models import AuditEvent
from server.campaigns import versions as content_version
from tests.server.api import objects

URL = "/api/v1/groups"


def fields(r: Any) -> dict[str, str]:
    assert r.mimetype == "application/problem+json", r.data
    return {e["field"]: e["reason"] for e in r.json.get("errors", [])}


def version(session: Session) -> int:
    session.rollback()  # end the test session's read snapshot: see what requests committed
    return content_version.current(session)


def test_nesting_and_cycles(client: FlaskClient, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    h = world["admin"].headers

    def create(name: str, org_id: int, parent_id: int | None = None) -> Any:
        return client.post(
            URL, json={"name": name, "organisation_id": org_id, "parent_id": parent_id}, headers=h
        )

    a = create("campus", world.province.id).json
    b = create("schools", world.city.id, a["id"])
    assert b.status_code == 201 and b.json["parent_id"] == a["id"]
    c = create("halls", world.school.id, b.json["id"]).json
    # A province group cannot sit inside a school's group (content flows down, not up).
    r = create("regional", world.province.id, c["id"])
    assert r.status_code == 422 and "parent_id" in fields(r)
    r = create("dup", world.school.id, 999_999)
    assert r.status_code == 422 and fields(r)["parent_id"] == "no such group"

    before = version(session)
    r = client.patch(f"{URL}/{a['id']}", json={"parent_id": c["id"]}, headers=h)
    assert r.status_code == 422 and fields(r)["parent_id"] == "group of another organisation branch"
    other_city = create("buses", world.city.id).json
    # Cycles can only close within one organisation: halls ▸ floor1 ▸ room; halls under room.
    floor1 = create("floor1", world.school.id, c["id"]).json
    room = create("room", world.school.id, floor1["id"]).json
    r = client.patch(f"{URL}/{c['id']}", json={"parent_id": room["id"]}, headers=h)
    assert r.status_code == 422 and fields(r)["parent_id"] == "would make a cycle"
    r = client.patch(f"{URL}/{c['id']}", json={"parent_id": c["id"]}, headers=h)
    assert r.status_code == 422 and fields(r)["parent_id"] == "would make a cycle"
    assert version(session) == before  # refused changes bump nothing

    r = client.patch(f"{URL}/{c['id']}", json={"parent_id": other_city["id"]}, headers=h)
    assert r.status_code == 200 and r.json["parent_id"] == other_city["id"]
    assert version(session) > before  # targeting below the group changed
    r = client.patch(f"{URL}/{c['id']}", json={"parent_id": None}, headers=h)
    assert r.status_code == 200 and r.json["parent_id"] is None
    r = client.patch(f"{URL}/{c['id']}", json={"name": None}, headers=h)
    assert r.status_code == 422 and "name" in fields(r)

    r = client.delete(f"{URL}/{a['id']}", headers=h)
    assert r.status_code == 409  # it still has "schools" inside
    assert client.delete(f"{URL}/{b.json['id']}", headers=h).status_code == 204
    assert client.delete(f"{URL}/{a['id']}", headers=h).status_code == 204
    session.rollback()
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "group").order_by(AuditEvent.id)
    ).all()
    assert actions == ["create"] * 6 + ["update"] * 2 + ["delete"] * 2


def test_membership_and_nested_screens(client: FlaskClient, world, session: Session, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    campus = objects.group(session, world.province, "campus", now)
    halls = objects.group(session, world.school, "halls", now, parent=campus)
    gate = objects.screen(session, world.school, "Gate", now)
    hall = objects.screen(session, world.school, "Hall", now)
    hq = objects.screen(session, world.province, "HQ", now)
    foreign = objects.screen(session, world.other, "Far", now)
    h = world["operator"].headers

    assert client.put(f"{URL}/{halls.id}/screens/{hall.id}", headers=h).status_code == 204
    assert client.put(f"{URL}/{halls.id}/screens/{hall.id}", headers=h).status_code == 204
    assert client.put(f"{URL}/{campus.id}/screens/{gate.id}", headers=h).status_code == 204
    r = client.put(f"{URL}/{halls.id}/screens/{hq.id}", headers=h)
    assert r.status_code == 422 and "screen_id" in fields(r)  # HQ is above the school
    assert client.put(f"{URL}/{campus.id}/screens/{foreign.id}", headers=h).status_code == 404

    r = client.get(f"{URL}/{campus.id}/screens?sort=name", headers=world["viewer"].headers)
    assert r.status_code == 200 and [s["name"] for s in r.json["items"]] == ["Gate", "Hall"]
    assert r.json["items"][1]["group_ids"] == [halls.id]
    r = client.get(f"{URL}/{halls.id}/screens", headers=h)
    assert [s["name"] for s in r.json["items"]] == ["Hall"]

    assert client.delete(f"{URL}/{halls.id}/screens/{hall.id}", headers=h).status_code == 204
    assert client.delete(f"{URL}/{halls.id}/screens/{hall.id}", headers=h).status_code == 204
    r = client.get(f"{URL}/{campus.id}/screens", headers=h)
    assert [s["name"] for s in r.json["items"]] == ["Gate"]
    session.rollback()
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "group").order_by(AuditEvent.id)
    ).all()
    assert actions == ["add_screen", "add_screen", "remove_screen"]  # no-ops are not audited


def test_reading_down_the_tree_and_writing_only_your_own(
    client: FlaskClient, world, session: Session, clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    campus = objects.group(session, world.province, "campus", now)
    objects.group(session, world.other, "elsewhere", now)
    city_group = objects.group(session, world.city, "buses", now)
    school_screen = objects.screen(session, world.school, "Gate", now)
    city = world["city_operator"].headers

    # The province's group is readable below it, and a school screen may join it...
    assert client.get(f"{URL}/{campus.id}", headers=city).status_code == 200
    r = client.get(f"{URL}?sort=name", headers=city)
    assert [g["name"] for g in r.json["items"]] == ["buses", "campus"]
    r = client.put(f"{URL}/{campus.id}/screens/{school_screen.id}", headers=city)
    assert r.status_code == 204
    r = client.post(
        URL,
        json={"name": "city-campus", "organisation_id": world.city.id, "parent_id": campus.id},
        headers=city,
    )
    assert r.status_code == 201
    # ...but it is the province's to rename or delete.
    assert client.patch(f"{URL}/{campus.id}", json={"name": "x"}, headers=city).status_code == 403
    assert client.delete(f"{URL}/{campus.id}", headers=city).status_code == 403
    assert client.delete(f"{URL}/{city_group.id}", headers=city).status_code == 204

    outsider = world["outsider"].headers
    assert client.get(f"{URL}/{campus.id}", headers=outsider).status_code == 404
    r = client.get(URL, headers=outsider)
    assert [g["name"] for g in r.json["items"]] == ["elsewhere"]
    r = client.get(f"{URL}?name=camp&top_level=true", headers=world["viewer"].headers)
    assert [g["name"] for g in r.json["items"]] == ["campus"]
    r = client.post(URL, json={"name": "x", "organisation_id": world.city.id}, headers=outsider)
    assert r.status_code == 404
    body = {"name": "dup", "organisation_id": world.city.id}
    assert client.post(URL, json=body, headers=city).status_code == 201
    r = client.post(URL, json=body, headers=city)
    assert r.status_code == 409 and "name" in fields(r)
