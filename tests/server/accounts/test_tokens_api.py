"""API tokens: shown once, listed without secrets, expiring, revoked by owner or admin."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.models import AuditEvent

URL = "/api/v1/tokens"


def fields(r: Any) -> dict[str, str]:
    assert r.mimetype == "application/problem+json", r.data
    return {e["field"]: e["reason"] for e in r.json.get("errors", [])}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_issue_use_expire_and_revoke(client: FlaskClient, world, session: Session, clock) -> None:  # type: ignore[no-untyped-def]
    h = world["viewer"].headers
    expires = (clock.now() + timedelta(days=1)).isoformat()
    r = client.post(URL, json={"name": "ci", "expires_at": expires}, headers=h)
    assert r.status_code == 201, r.json
    created = r.json
    token = created["token"]
    assert token.startswith("sgt_") and created["prefix"] == token[:12]
    assert (
        client.get("/api/v1/session", headers=bearer(token)).json["email"] == "viewer@province.test"
    )

    r = client.get(f"{URL}?sort=-id", headers=h)
    assert [t["name"] for t in r.json["items"]] == ["ci", "test"]
    assert all("token" not in t for t in r.json["items"])
    assert token not in r.get_data(as_text=True)

    clock.advance(timedelta(days=1))
    assert client.get("/api/v1/session", headers=bearer(token)).status_code == 401
    r = client.get(f"{URL}?active=false", headers=h)
    assert [t["name"] for t in r.json["items"]] == ["ci"]

    r = client.post(URL, json={"name": "forever"}, headers=h)
    forever = r.json
    assert client.delete(f"{URL}/{forever['id']}", headers=h).status_code == 204
    assert client.delete(f"{URL}/{forever['id']}", headers=h).status_code == 204  # idempotent
    assert client.get("/api/v1/session", headers=bearer(forever["token"])).status_code == 401
    r = client.get(f"{URL}?active=true", headers=h)
    assert [t["name"] for t in r.json["items"]] == ["test"]
    assert client.get(f"{URL}/{forever['id']}", headers=h).status_code == 405

    session.rollback()
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "api_token")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "create", "revoke"]


def test_bad_input_names_the_field(client: FlaskClient, world, clock) -> None:  # type: ignore[no-untyped-def]
    h = world["operator"].headers
    past = (clock.now() - timedelta(seconds=1)).isoformat()
    naive = clock.now().replace(tzinfo=None).isoformat()
    for body, field in [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "x", "expires_at": past}, "expires_at"),
        ({"name": "x", "expires_at": naive}, "expires_at"),
        ({"name": "x", "expires_at": "tomorrow"}, "expires_at"),
        ({"name": "x", "scopes": ["all"]}, "scopes"),
    ]:
        r = client.post(URL, json=body, headers=h)
        assert r.status_code == 422 and field in fields(r), (body, r.json)


def test_who_may_revoke(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    def issue(person: str) -> dict[str, Any]:
        r = client.post(URL, json={"name": "script"}, headers=world[person].headers)
        assert r.status_code == 201
        return dict(r.json)

    operator_token = issue("operator")
    admin_token = issue("admin")
    assert (
        client.delete(f"{URL}/{admin_token['id']}", headers=world["operator"].headers).status_code
        == 404
    )
    assert (
        client.delete(
            f"{URL}/{operator_token['id']}", headers=world["outsider"].headers
        ).status_code
        == 404
    )
    assert (
        client.delete(f"{URL}/{operator_token['id']}", headers=world["admin"].headers).status_code
        == 204
    )
    assert client.get("/api/v1/session", headers=bearer(operator_token["token"])).status_code == 401
    assert client.get("/api/v1/session", headers=world["operator"].headers).status_code == 200
    r = client.get(URL, headers=world["admin"].headers)
    assert {t["id"] for t in r.json["items"]} == {admin_token["id"], r.json["items"][0]["id"]}
    assert operator_token["id"] not in {t["id"] for t in r.json["items"]}
    assert client.delete(f"{URL}/999999", headers=world["admin"].headers).status_code == 404
