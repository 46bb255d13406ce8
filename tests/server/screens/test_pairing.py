"""Pairing: a code on the screen, an operator's claim, the token collected once, revocation."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.actors import token_digest
from server.auth.models import AuditEvent
from server.clock import SettableClock
from server.screens.codes import ALPHABET
from server.screens.models import Pairing, Screen
from tests.server.api.objects import group
from tests.server.delivery.content import device, pair

HELLO = "/api/v1/player/hello"
CLAIM = "/api/v1/pairings/claim"
MANIFEST = "/api/v1/player/manifest"


def _hello(client: FlaskClient, hardware_id: str = "b8:27:eb:12:34:56", **extra: object):  # type: ignore[no-untyped-def]
    body = {"hardware_id": hardware_id, "player_version": "0.1.0", "width": 1920, "height": 1080}
    return client.post(HELLO, json={**body, **extra})


def test_code_is_short_unambiguous_stable_and_expiring(
    client: FlaskClient, clock: SettableClock
) -> None:
    r = _hello(client)
    assert r.status_code == 200
    code = r.json["pairing_code"]
    assert len(code) == 6 and set(code) <= set(ALPHABET)
    assert not set(code) & set("01ILO")
    assert r.json["state"] == "pairing" and r.json["retry_after"] == 5
    assert r.json["expires_at"] == "2026-01-05T09:15:00.000Z"
    clock.advance(timedelta(minutes=14))
    assert _hello(client).json["pairing_code"] == code
    clock.advance(timedelta(minutes=2))
    fresh = _hello(client).json
    assert fresh["state"] == "pairing" and fresh["expires_at"] == "2026-01-05T09:31:00.000Z"
    assert _hello(client, "another device").json["pairing_code"] != fresh["pairing_code"]


def test_hello_refuses_bad_input_naming_the_field(client: FlaskClient) -> None:
    r = client.post(HELLO, json={"hardware_id": "", "width": 0, "height": 1080})
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"hardware_id", "width"}
    r = client.post(HELLO, json={"hardware_id": "a\nb", "width": 10, "height": 10})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "hardware_id"


def test_claim_then_collect_the_token_once(
    client: FlaskClient,
    session: Session,
    world,
    clock: SettableClock,  # type: ignore[no-untyped-def]
) -> None:
    campus = group(session, world.city, "campus", clock.now())
    code = _hello(client, name="Lobby left").json["pairing_code"]
    # Still waiting: no token yet.
    assert _hello(client, name="Lobby left").json["state"] == "pairing"
    body = {
        "code": code.lower()[:3] + "-" + code[3:],  # typed loosely
        "organisation_id": world.school.id,
        "group_ids": [campus.id],
        "timezone": "Asia/Shanghai",
    }
    r = client.post(CLAIM, json=body, headers=world["operator"].headers)
    assert r.status_code == 201, r.json
    screen = r.json
    assert screen["name"] == "Lobby left" and screen["group_ids"] == [campus.id]
    assert screen["timezone"] == "Asia/Shanghai" and screen["organisation_id"] == world.school.id
    r = _hello(client)
    assert r.status_code == 200 and r.json["state"] == "paired"
    token = r.json["device_token"]
    assert token.startswith("sgd_") and r.json["screen_id"] == screen["id"]
    # Stored as a hash only; the pairing is gone, so a second hello starts over.
    row = session.get(Screen, screen["id"])
    assert row is not None and row.device_token_hash == token_digest(token)
    assert session.scalars(select(Pairing)).all() == []
    assert _hello(client).json["state"] == "pairing"
    assert client.get(MANIFEST, headers=device(token)).status_code == 200
    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "claim")).one()
    assert audit.actor == "operator@province.test" and audit.object_id == str(screen["id"])


def test_claim_is_checked(client: FlaskClient, world, clock: SettableClock) -> None:  # type: ignore[no-untyped-def]
    code = _hello(client).json["pairing_code"]
    claim = {"code": code, "organisation_id": world.school.id}
    r = client.post(CLAIM, json={**claim, "code": "ZZZZZZ"}, headers=world["operator"].headers)
    assert r.status_code == 404 and r.json["errors"][0]["field"] == "code"
    assert client.post(CLAIM, json=claim, headers=world["viewer"].headers).status_code == 403
    assert client.post(CLAIM, json=claim, headers=world["outsider"].headers).status_code == 404
    r = client.post(
        CLAIM, json={**claim, "timezone": "Mars/Olympus"}, headers=world["operator"].headers
    )
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "timezone"
    clock.advance(timedelta(minutes=16))
    r = client.post(CLAIM, json=claim, headers=world["operator"].headers)
    assert r.status_code == 404


def test_revoked_player_gets_401_then_pairs_back_into_its_screen(
    client: FlaskClient,
    session: Session,
    world,  # type: ignore[no-untyped-def]
) -> None:
    token, screen_id = pair(client, world["operator"].headers, world.school.id, hardware_id="hw-9")
    assert client.get(MANIFEST, headers=device(token)).status_code == 200
    r = client.delete(f"/api/v1/screens/{screen_id}/device-token", headers=world["viewer"].headers)
    assert r.status_code == 403
    r = client.delete(
        f"/api/v1/screens/{screen_id}/device-token", headers=world["operator"].headers
    )
    assert r.status_code == 204
    r = client.get(MANIFEST, headers=device(token))
    assert r.status_code == 401 and r.mimetype == "application/problem+json"
    # Pairing again lands on the same screen: a version-1 player proves no key, so the
    # operator (who may manage the screen) accepts it as the screen's device explicitly.
    token2, again = pair(
        client,
        world["operator"].headers,
        world.school.id,
        hardware_id="hw-9",
        replace_screen_id=screen_id,
    )
    assert again == screen_id and token2 != token
    assert client.get(MANIFEST, headers=device(token2)).status_code == 200
    assert client.get(MANIFEST, headers=device(token)).status_code == 401


def test_unknown_or_malformed_device_tokens_are_401(client: FlaskClient) -> None:
    for headers in ({}, device("sgd_nope"), device("sgt_operator_token"), {"Authorization": "x"}):
        r = client.get(MANIFEST, headers=headers)
        assert r.status_code == 401, headers
