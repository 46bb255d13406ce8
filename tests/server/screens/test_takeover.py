"""Issue 12, finding 1: the hardware id works like a password.

Knowing a screen's hardware id (its MAC address, by default) must not let anyone take the
screen: not by saying hello and claiming the code into another organisation, not by
presenting an enrolment token. Only a device proving the screen's key, or one its own
operators accept explicitly as a replacement, joins the screen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth.models import AuditEvent
from server.clock import SettableClock
from server.screens.models import Pairing, Screen
from tests.server.delivery.content import device, pair, proof, public_key

HELLO = "/api/v1/player/hello"
CLAIM = "/api/v1/pairings/claim"
MANIFEST = "/api/v1/player/manifest"
HW = "b8:27:eb:12:34:56"


def _hello(client: FlaskClient, hardware_id: str = HW, **extra: Any):  # type: ignore[no-untyped-def]
    body = {"hardware_id": hardware_id, "player_version": "0.1.0", "width": 1920, "height": 1080}
    return client.post(HELLO, json={**body, **extra})


def _enrolment_token(client: FlaskClient, org_id: int, admin: Any, clock: SettableClock) -> str:
    r = client.post(
        f"/api/v1/organisations/{org_id}/enrolment-tokens",
        json={"expires_at": (clock.now() + timedelta(days=1)).isoformat(), "max_uses": 5},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.json
    token: str = r.json["token"]
    return token


def _screen_state(session: Session, screen_id: int) -> tuple[Any, ...]:
    session.expire_all()
    screen = session.get(Screen, screen_id)
    assert screen is not None
    return (
        screen.organisation_id,
        screen.name,
        screen.hardware_id,
        screen.device_token_hash,
        getattr(screen, "device_key", None),  # so the test fails on the attack before keys
    )


def _attack(client: FlaskClient, world: Any, clock: SettableClock) -> list[int]:
    """Everything the review's attacker did, from organisation `other`; the statuses."""
    statuses = []
    r = _hello(client)  # a version-1 hello: the hardware id and nothing else
    statuses.append(r.status_code)
    if r.status_code == 200 and r.json["state"] == "pairing":
        claim = {"code": r.json["pairing_code"], "organisation_id": world.other.id}
        r = client.post(CLAIM, json=claim, headers=world["outsider"].headers)
        statuses.append(r.status_code)
        statuses.append(_hello(client).status_code)  # collect, if the claim went through
    enrol = _enrolment_token(client, world.other.id, world["outsider"], clock)
    statuses.append(_hello(client, enrol_token=enrol).status_code)
    return statuses


def test_finding_1_hardware_id_is_not_a_password_for_a_version_1_screen(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    """A screen paired before device keys (no key bound) is not taken either."""
    token, screen_id = pair(client, world["operator"].headers, world.school.id, hardware_id=HW)
    before = _screen_state(session, screen_id)
    etag = client.get(MANIFEST, headers=device(token)).headers["ETag"]

    statuses = _attack(client, world, clock)

    assert statuses == [200, 409, 200, 409]  # a code, no claim, still a code, no enrolment
    assert _screen_state(session, screen_id) == before
    r = client.get(MANIFEST, headers=device(token, **{"If-None-Match": etag}))
    assert r.status_code == 304  # the same screen, the same content
    assert session.scalar(select(func.count()).select_from(Screen)) == 1


def test_finding_1_hardware_id_is_not_a_password_for_a_key_bound_screen(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    key = Ed25519PrivateKey.generate()
    token, screen_id = pair(
        client, world["operator"].headers, world.school.id, hardware_id=HW, key=key, now=clock.now()
    )
    before = _screen_state(session, screen_id)
    assert before[4] == public_key(key)

    # The attacker with its own key: a proof, but of the wrong key.
    intruder = Ed25519PrivateKey.generate()
    r = _hello(client, proof=proof(intruder, HW, clock.now()))
    assert r.status_code == 200 and r.json["state"] == "pairing"
    claim = {"code": r.json["pairing_code"], "organisation_id": world.other.id}
    assert client.post(CLAIM, json=claim, headers=world["outsider"].headers).status_code == 409
    # Even B's own operator cannot slip it in without saying it replaces the screen's device.
    claim = {"code": r.json["pairing_code"], "organisation_id": world.school.id}
    r = client.post(CLAIM, json=claim, headers=world["operator"].headers)
    assert r.status_code == 409 and r.json["errors"][0]["field"] == "replace_screen_id"
    enrol = _enrolment_token(client, world.school.id, world["admin"], clock)
    r = _hello(client, enrol_token=enrol, proof=proof(intruder, HW, clock.now()))
    assert r.status_code == 409 and r.json["errors"][0]["field"] == "hardware_id"
    assert _attack(client, world, clock) == [200, 409, 200, 409]

    assert _screen_state(session, screen_id) == before
    assert client.get(MANIFEST, headers=device(token)).status_code == 200


def test_a_pairing_code_is_seen_and_collected_only_by_the_key_that_asked(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    key = Ed25519PrivateKey.generate()
    mine = _hello(client, proof=proof(key, HW, clock.now())).json["pairing_code"]
    assert _hello(client, proof=proof(key, HW, clock.now())).json["pairing_code"] == mine
    # Another key, or none, gets a code of its own and does not disturb this one.
    other = _hello(client, proof=proof(Ed25519PrivateKey.generate(), HW, clock.now()))
    keyless = _hello(client)
    assert len({mine, other.json["pairing_code"], keyless.json["pairing_code"]}) == 3
    claim = {"code": mine, "organisation_id": world.school.id}
    assert client.post(CLAIM, json=claim, headers=world["operator"].headers).status_code == 201
    assert _hello(client).json["state"] == "pairing"  # no token for the keyless hello
    r = _hello(client, proof=proof(key, HW, clock.now()))
    assert r.json["state"] == "paired"
    screen = session.get(Screen, r.json["screen_id"])
    assert screen is not None and screen.device_key == public_key(key)


def test_a_proof_must_verify_and_be_recent(
    client: FlaskClient, session: Session, clock: SettableClock
) -> None:
    key = Ed25519PrivateKey.generate()
    good = proof(key, HW, clock.now())
    r = _hello(client, "another-id", proof=good)  # signed for another hardware id
    assert r.status_code == 401 and r.json["errors"][0]["field"] == "proof.signature"
    stale = proof(key, HW, clock.now() - timedelta(minutes=6))
    r = _hello(client, proof=stale)
    assert r.status_code == 401 and r.json["errors"][0]["field"] == "proof.at"
    r = _hello(client, proof={**good, "device_key": "short"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "proof.device_key"
    assert session.scalar(select(func.count()).select_from(Pairing)) == 0


def test_the_same_device_pairs_back_into_its_screen(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    key = Ed25519PrivateKey.generate()
    at = clock.now()
    token, screen_id = pair(client, world["operator"].headers, world.school.id, key=key, now=at)
    client.delete(f"/api/v1/screens/{screen_id}/device-token", headers=world["operator"].headers)
    token2, again = pair(client, world["operator"].headers, world.school.id, key=key, now=at)
    assert again == screen_id and token2 != token
    # ...but not into another organisation's hands, even with its key.
    r = _hello(client, "hw-1", proof=proof(key, "hw-1", at))
    claim = {"code": r.json["pairing_code"], "organisation_id": world.other.id}
    assert client.post(CLAIM, json=claim, headers=world["outsider"].headers).status_code == 409
    assert client.get(MANIFEST, headers=device(token2)).status_code == 200


def test_replacing_a_broken_device_is_explicit_and_audited(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    old_key, new_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    at = clock.now()
    old_token, screen_id = pair(
        client, world["operator"].headers, world.school.id, hardware_id=HW, key=old_key, now=at
    )
    # The new device has another hardware id (or the same: see the integration test).
    code = _hello(client, "new-device", proof=proof(new_key, "new-device", at)).json["pairing_code"]
    replace = {"code": code, "replace_screen_id": screen_id}
    assert client.post(CLAIM, json=replace, headers=world["outsider"].headers).status_code == 404
    assert client.post(CLAIM, json=replace, headers=world["viewer"].headers).status_code == 403
    assert client.get(MANIFEST, headers=device(old_token)).status_code == 200
    r = client.post(CLAIM, json=replace, headers=world["operator"].headers)
    assert r.status_code == 201 and r.json["id"] == screen_id, r.json
    assert client.get(MANIFEST, headers=device(old_token)).status_code == 401
    r = _hello(client, "new-device", proof=proof(new_key, "new-device", at))
    assert r.json["state"] == "paired" and r.json["screen_id"] == screen_id
    assert client.get(MANIFEST, headers=device(r.json["device_token"])).status_code == 200
    session.expire_all()
    screen = session.get(Screen, screen_id)
    assert screen is not None
    assert (screen.hardware_id, screen.device_key) == ("new-device", public_key(new_key))
    assert screen.organisation_id == world.school.id
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "replace_device")).one()
    assert event.object_id == str(screen_id) and event.actor == "operator@province.test"
    assert event.summary["after"]["device_key"] == public_key(new_key)


def test_a_version_1_screen_binds_its_key_once_with_its_token(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    token, screen_id = pair(client, world["operator"].headers, world.school.id, hardware_id=HW)
    key = Ed25519PrivateKey.generate()
    url = "/api/v1/player/device-key"
    body = {"hardware_id": HW, "proof": proof(key, HW, clock.now())}
    assert client.put(url, json=body).status_code == 401  # needs the device token
    assert client.put(url, json=body, headers=device(token)).status_code == 204
    assert client.put(url, json=body, headers=device(token)).status_code == 204  # harmless
    other = {"hardware_id": HW, "proof": proof(Ed25519PrivateKey.generate(), HW, clock.now())}
    assert client.put(url, json=other, headers=device(token)).status_code == 409
    session.expire_all()
    screen = session.get(Screen, screen_id)
    assert screen is not None and screen.device_key == public_key(key)
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "bind")).one()


def test_re_enrolment_takes_back_only_its_own_screen(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    key = Ed25519PrivateKey.generate()
    enrol = _enrolment_token(client, world.school.id, world["admin"], clock)
    first = _hello(client, enrol_token=enrol, proof=proof(key, HW, clock.now()))
    assert first.status_code == 201
    again = _hello(client, enrol_token=enrol, proof=proof(key, HW, clock.now()))
    assert again.status_code == 201 and again.json["screen_id"] == first.json["screen_id"]
    keyless = _hello(client, enrol_token=enrol)
    assert keyless.status_code == 409
    assert client.get(MANIFEST, headers=device(again.json["device_token"])).status_code == 200
