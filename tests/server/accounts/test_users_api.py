"""Users: admins manage people and roles in their own subtrees, and cannot lock themselves out."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Membership, Role
from server.auth.models import AuditEvent

URL = "/api/v1/users"


def fields(r: Any) -> dict[str, str]:
    assert r.mimetype == "application/problem+json", r.data
    return {e["field"]: e["reason"] for e in r.json.get("errors", [])}


def test_admin_creates_lists_and_edits_users(client: FlaskClient, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    h = world["admin"].headers
    body = {
        "email": "New.Teacher@School.test",
        "name": "New Teacher",
        "password": "long enough secret",
        "organisation_id": world.school.id,
        "role": "operator",
    }
    r = client.post(URL, json=body, headers=h)
    assert r.status_code == 201, r.json
    user = r.json
    assert user["email"] == "new.teacher@school.test" and user["active"] is True
    assert user["memberships"] == [
        {"organisation_id": world.school.id, "organisation": "School", "role": "operator"}
    ]
    assert "password" not in user and "password_hash" not in user
    r = client.post("/api/v1/session", json={"email": body["email"], "password": body["password"]})
    assert r.status_code == 201

    r = client.get(f"{URL}?sort=email", headers=h)
    emails = [u["email"] for u in r.json["items"]]
    assert "admin@other.test" not in emails and "new.teacher@school.test" in emails
    assert r.json["total"] == 6  # one province person per role, the city operator, the teacher
    r = client.get(f"{URL}?organisation_id={world.city.id}", headers=h)
    assert [u["email"] for u in r.json["items"]] == ["op@city.test"]
    r = client.get(f"{URL}?q=teacher", headers=h)
    assert [u["id"] for u in r.json["items"]] == [user["id"]]

    r = client.patch(f"{URL}/{user['id']}", json={"name": "Ms T", "active": False}, headers=h)
    assert r.status_code == 200 and r.json["name"] == "Ms T" and r.json["active"] is False
    r = client.get(f"{URL}?active=false", headers=h)
    assert [u["id"] for u in r.json["items"]] == [user["id"]]
    r = client.post("/api/v1/session", json={"email": body["email"], "password": body["password"]})
    assert r.status_code == 401
    r = client.patch(
        f"{URL}/{user['id']}", json={"password": "another secret", "active": True}, headers=h
    )
    assert r.status_code == 200
    r = client.post("/api/v1/session", json={"email": body["email"], "password": "another secret"})
    assert r.status_code == 201
    assert client.delete(f"{URL}/{user['id']}", headers=h).status_code == 204
    assert client.get(f"{URL}/{user['id']}", headers=h).status_code == 404

    session.rollback()
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.object_type == "user").order_by(AuditEvent.id)
    ).all()
    assert [a.action for a in rows] == ["create", "update", "update", "delete"]
    assert rows[2].summary["after"] == {"active": True, "password_changed": True}
    assert "hash" not in str([a.summary for a in rows])


def test_bad_input_names_the_field(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    h = world["admin"].headers
    good = {
        "email": "x@province.test",
        "password": "long enough secret",
        "organisation_id": world.city.id,
        "role": "viewer",
    }
    for body, field, status in [
        ({**good, "email": "not-an-email"}, "email", 422),
        ({**good, "email": "viewer@province.test"}, "email", 409),
        ({**good, "password": "short"}, "password", 422),
        ({**good, "role": "owner"}, "role", 422),
        ({**good, "organisation_id": "city"}, "organisation_id", 422),
        ({**good, "is_admin": True}, "is_admin", 422),
        ({k: v for k, v in good.items() if k != "role"}, "role", 422),
    ]:
        r = client.post(URL, json=body, headers=h)
        assert r.status_code == status and field in fields(r), (body, r.json)
    r = client.patch(f"{URL}/{world['viewer'].user.id}", json={"email": "a@b.c"}, headers=h)
    assert r.status_code == 422 and fields(r)["email"] == "unknown field"
    r = client.patch(f"{URL}/{world['viewer'].user.id}", json={"active": None}, headers=h)
    assert r.status_code == 422 and "active" in fields(r)


def test_only_admins_and_only_in_their_subtree(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    viewer_id = world["viewer"].user.id
    assert client.get(URL, headers=world["approver"].headers).status_code == 403
    assert client.get(f"{URL}/{viewer_id}", headers=world["operator"].headers).status_code == 403
    assert client.get(f"{URL}/{viewer_id}", headers=world["outsider"].headers).status_code == 404
    r = client.get(URL, headers=world["outsider"].headers)
    assert [u["email"] for u in r.json["items"]] == ["admin@other.test"]
    body = {
        "email": "sneaky@other.test",
        "password": "long enough secret",
        "organisation_id": world.school.id,
        "role": "admin",
    }
    assert client.post(URL, json=body, headers=world["outsider"].headers).status_code == 404
    r = client.post(
        f"{URL}/{viewer_id}/memberships",
        json={"organisation_id": world.other.id, "role": "viewer"},
        headers=world["outsider"].headers,
    )
    assert r.status_code == 404


def test_memberships_and_lockout_rules(client: FlaskClient, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    h = world["admin"].headers
    me = world["admin"].user.id
    viewer = world["viewer"].user.id
    url = f"{URL}/{viewer}/memberships"

    r = client.post(url, json={"organisation_id": world.school.id, "role": "operator"}, headers=h)
    assert r.status_code == 201
    assert {(m["organisation"], m["role"]) for m in r.json["memberships"]} == {
        ("Province", "viewer"),
        ("School", "operator"),
    }
    r = client.post(url, json={"organisation_id": world.school.id, "role": "viewer"}, headers=h)
    assert r.status_code == 409 and "organisation_id" in fields(r)
    r = client.patch(f"{url}/{world.school.id}", json={"role": "approver"}, headers=h)
    assert r.status_code == 200
    assert {m["role"] for m in r.json["memberships"]} == {"viewer", "approver"}
    assert (
        client.patch(f"{url}/{world.city.id}", json={"role": "viewer"}, headers=h).status_code
        == 404
    )
    assert client.delete(f"{url}/{world.school.id}", headers=h).status_code == 204
    r = client.delete(f"{url}/{world.province.id}", headers=h)
    assert r.status_code == 409 and "only role" in r.json["detail"]

    # An admin cannot give up their own last admin membership, nor disable or delete themselves.
    mine = f"{URL}/{me}/memberships"
    r = client.patch(f"{mine}/{world.province.id}", json={"role": "viewer"}, headers=h)
    assert r.status_code == 409 and "role" in fields(r)
    assert client.patch(f"{URL}/{me}", json={"active": False}, headers=h).status_code == 409
    assert client.delete(f"{URL}/{me}", headers=h).status_code == 409
    r = client.post(mine, json={"organisation_id": world.city.id, "role": "admin"}, headers=h)
    assert r.status_code == 201
    r = client.patch(f"{mine}/{world.province.id}", json={"role": "viewer"}, headers=h)
    assert r.status_code == 200  # the city admin membership remains
    session.rollback()
    roles = dict(
        session.execute(
            select(Membership.organisation_id, Membership.role).where(Membership.user_id == me)
        ).all()
    )
    assert roles == {world.province.id: Role.VIEWER, world.city.id: Role.ADMIN}
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "user").order_by(AuditEvent.id)
    ).all()
    assert actions == ["add_role", "change_role", "remove_role", "add_role", "change_role"]


def test_people_of_two_trees_need_both_admins(client: FlaskClient, world, session: Session) -> None:  # type: ignore[no-untyped-def]
    h = world["admin"].headers
    viewer = world["viewer"].user.id
    # The province admin adds the viewer to nothing outside; the outsider admin cannot see them.
    session.add(Membership(user_id=viewer, organisation_id=world.other.id, role=Role.VIEWER))
    session.commit()
    r = client.get(f"{URL}/{viewer}", headers=world["outsider"].headers)
    assert r.status_code == 200
    assert [m["organisation"] for m in r.json["memberships"]] == ["Other"]  # not Province
    r = client.patch(f"{URL}/{viewer}", json={"active": False}, headers=world["outsider"].headers)
    assert r.status_code == 403
    assert client.delete(f"{URL}/{viewer}", headers=h).status_code == 403
    r = client.delete(
        f"{URL}/{viewer}/memberships/{world.other.id}", headers=world["outsider"].headers
    )
    assert r.status_code == 204
    assert client.delete(f"{URL}/{viewer}", headers=h).status_code == 204
