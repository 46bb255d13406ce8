"""Enrolment tokens: many players join an organisation with one expiring, limited secret."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.clock import SettableClock
from server.screens.models import EnrolmentToken, Screen
from tests.server.api.objects import group
from tests.server.delivery.content import device

HELLO = "/api/v1/player/hello"


def _issue(client: FlaskClient, world, clock: SettableClock, **extra: object):  # type: ignore[no-untyped-def]
    body = {
        "expires_at": (clock.now() + timedelta(days=7)).isoformat(),
        "max_uses": 2,
        "timezone": "Asia/Shanghai",
        "name": "roll-out",
        **extra,
    }
    return client.post(
        f"/api/v1/organisations/{world.school.id}/enrolment-tokens",
        json=body,
        headers=world["admin"].headers,
    )


def _enrol(client: FlaskClient, token: str, hardware_id: str, name: str | None = None):  # type: ignore[no-untyped-def]
    body = {"hardware_id": hardware_id, "width": 1080, "height": 1920, "enrol_token": token}
    return client.post(HELLO, json={**body, **({"name": name} if name else {})})


def test_enrolment_places_screens_until_used_up(
    client: FlaskClient,
    session: Session,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    campus = group(session, world.city, "campus", clock.now())
    r = _issue(client, world, clock, group_ids=[campus.id])
    assert r.status_code == 201, r.json
    secret, token_id = r.json["token"], r.json["id"]
    assert secret.startswith("sge_") and r.json["uses"] == 0
    listed = client.get(
        f"/api/v1/organisations/{world.school.id}/enrolment-tokens", headers=world["admin"].headers
    ).json
    assert [t["id"] for t in listed] == [token_id] and "token" not in listed[0]

    first = _enrol(client, secret, "hw-a", name="Hall")
    assert first.status_code == 201 and first.json["state"] == "paired"
    assert (
        client.get(
            "/api/v1/player/manifest", headers=device(first.json["device_token"])
        ).status_code
        == 200
    )
    second = _enrol(client, secret, "hw-b", name="Hall")
    assert second.status_code == 201
    screens = {s.hardware_id: s for s in session.query(Screen).all()}
    assert screens["hw-a"].name == "Hall" and screens["hw-b"].name == "Hall (2)"
    assert screens["hw-a"].timezone == "Asia/Shanghai" and screens["hw-a"].height == 1920
    assert [g.id for g in screens["hw-a"].groups] == [campus.id]

    used_up = _enrol(client, secret, "hw-c")
    assert used_up.status_code == 403
    assert used_up.json["errors"] == [{"field": "enrol_token", "reason": "used up"}]


def test_reinstalled_player_re_enrols_into_its_screen(
    client: FlaskClient,
    session: Session,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    secret = _issue(client, world, clock).json["token"]
    a = _enrol(client, secret, "hw-a").json
    b = _enrol(client, secret, "hw-a").json
    assert a["screen_id"] == b["screen_id"] and a["device_token"] != b["device_token"]
    assert (
        client.get("/api/v1/player/manifest", headers=device(a["device_token"])).status_code == 401
    )


def test_bad_enrolment_tokens_are_refused_naming_the_field(
    client: FlaskClient,
    session: Session,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    assert _enrol(client, "sge_unknown", "x").json["errors"][0]["reason"] == "unknown token"
    created = _issue(client, world, clock).json
    r = client.delete(
        f"/api/v1/enrolment-tokens/{created['id']}", headers=world["outsider"].headers
    )
    assert r.status_code == 404
    r = client.delete(f"/api/v1/enrolment-tokens/{created['id']}", headers=world["admin"].headers)
    assert r.status_code == 204
    assert _enrol(client, created["token"], "x").json["errors"][0]["reason"] == "revoked"
    expiring = _issue(client, world, clock).json["token"]
    clock.advance(timedelta(days=8))
    r = _enrol(client, expiring, "x")
    assert r.status_code == 403 and r.json["errors"][0]["reason"] == "expired"
    assert session.query(Screen).count() == 0
    assert session.query(EnrolmentToken).count() == 2


def test_issuing_needs_an_admin_and_valid_input(
    client: FlaskClient,
    session: Session,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    url = f"/api/v1/organisations/{world.school.id}/enrolment-tokens"
    body = {"expires_at": (clock.now() + timedelta(days=1)).isoformat(), "max_uses": 5}
    assert client.post(url, json=body, headers=world["operator"].headers).status_code == 403
    past = {**body, "expires_at": (clock.now() - timedelta(days=1)).isoformat()}
    r = client.post(url, json=past, headers=world["admin"].headers)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "expires_at"
    elsewhere = group(session, world.other, "foreign", clock.now())
    r = client.post(url, json={**body, "group_ids": [elsewhere.id]}, headers=world["admin"].headers)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "group_ids[0]"
