"""Issue 12, finding 8: flooding. New pairings are limited per source address, wrong claim
codes per organisation and per source address, with 429 + Retry-After, in counters every
node shares (the database)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.clock import SettableClock
from server.screens.models import Pairing

HELLO = "/api/v1/player/hello"
CLAIM = "/api/v1/pairings/claim"


def _hello(client: FlaskClient, hardware_id: str, address: str = "192.0.2.1", **headers: str):  # type: ignore[no-untyped-def]
    body = {"hardware_id": hardware_id, "width": 1920, "height": 1080}
    return client.post(
        HELLO, json=body, headers=headers, environ_base={"REMOTE_ADDR": address}
    )


def _pairings(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Pairing)) or 0)


def test_finding_8_flooding_hellos_are_limited_per_source_address(
    client: FlaskClient, session: Session, clock: SettableClock
) -> None:
    answers = [_hello(client, f"invented-{i}").status_code for i in range(200)]
    assert answers[:30] == [200] * 30 and set(answers[30:]) == {429}
    assert _pairings(session) == 30
    r = _hello(client, "one-more", **{"X-Forwarded-For": "198.51.100.7"})  # not a trusted proxy
    assert r.status_code == 429 and r.mimetype == "application/problem+json"
    assert 1 <= int(r.headers["Retry-After"]) <= 600
    # A player that already has its pairing goes on getting its code; other addresses pair.
    assert _hello(client, "invented-0").status_code == 200
    assert _hello(client, "elsewhere", address="203.0.113.9").status_code == 200
    clock.advance(timedelta(minutes=10))
    assert _hello(client, "next-window").status_code == 200


def test_finding_8_flooding_wrong_claim_codes_are_limited(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    code = _hello(client, "real-screen").json["pairing_code"]
    operator = world["operator"].headers

    def claim(code: str, org_id: int) -> Any:
        return client.post(
            CLAIM,
            json={"code": code, "organisation_id": org_id},
            headers=operator,
            environ_base={"REMOTE_ADDR": "192.0.2.50"},
        )

    wrong = [claim("ZZZZZZ", world.school.id).status_code for _ in range(10)]
    assert wrong == [404] * 10
    r = claim(code, world.school.id)  # even the right code waits for the window to end
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json["status"] == 429 and "organisation" in r.json["detail"]
    # Another organisation has its own budget; the address has one across organisations.
    assert [claim("ZZZZZZ", world.city.id).status_code for _ in range(10)] == [404] * 10
    r = claim(code, world.province.id)
    assert r.status_code == 429 and "address" in r.json["detail"]
    clock.advance(timedelta(minutes=10))
    assert claim(code, world.school.id).status_code == 201


def test_counters_are_pruned_and_proxies_are_trusted_only_when_configured(
    client: FlaskClient, session: Session, clock: SettableClock
) -> None:
    # Imported here so that the finding's tests above run (and fail) on a server without them.
    from server.auth.limits import prune_counters, source_address
    from server.auth.models import RateCounter

    assert _hello(client, "a").status_code == 200
    assert session.scalar(select(func.count()).select_from(RateCounter)) == 1
    assert prune_counters(session, clock.now()) == 0
    assert prune_counters(session, clock.now() + timedelta(days=2)) == 1
    session.commit()

    trusted = ("10.0.0.0/8", "127.0.0.1")
    assert source_address("10.1.2.3", "198.51.100.7", ()) == "10.1.2.3"
    assert source_address("10.1.2.3", "198.51.100.7", trusted) == "198.51.100.7"
    # A client cannot add hops: only the proxies' own entries are read, right to left.
    assert source_address("10.1.2.3", "1.2.3.4, 198.51.100.7, 10.9.9.9", trusted) == (
        "198.51.100.7"
    )
    assert source_address("203.0.113.5", "1.2.3.4", trusted) == "203.0.113.5"
    assert source_address("2001:db8::1", None, ()) == "2001:db8::/64"
    assert source_address("::ffff:192.0.2.1", None, ()) == "192.0.2.1"
    assert source_address(None, None, ()) == "unknown"
