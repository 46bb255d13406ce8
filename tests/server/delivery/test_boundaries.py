"""What a device token may not do, and how the player API sheds load."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.api.registry import api
from server.auth.policy import Audience
from server.delivery.runtime import PlayerRuntime
from server.errors import ServiceUnavailable
from tests.server.delivery.content import device, pair


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", "/api/v1" + path)


def test_a_device_token_is_refused_on_every_operator_route(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    token, _ = pair(client, world["operator"].headers, world.school.id)
    operations = [op for op in api.operations if op.policy.audience is Audience.OPERATOR]
    assert len(operations) > 20
    for op in operations:
        r = client.open(
            _concrete(op.path), method=op.method.upper(), headers=device(token), json={}
        )
        assert r.status_code in (401, 403), (op.method, op.path, r.status_code)
    # ...and on the media of drafts, where it counts as anonymous.
    assert client.get("/api/v1/session", headers=device(token)).status_code == 401


def test_player_routes_shed_load_with_503_and_retry_after(
    client: FlaskClient,
    runtime: PlayerRuntime,
    world,  # type: ignore[no-untyped-def]
) -> None:
    token, _ = pair(client, world["operator"].headers, world.school.id)
    gate = runtime.gate
    held = [gate.enter() for _ in range(gate.limit)]  # every slot busy
    try:
        r = client.get("/api/v1/player/manifest", headers=device(token))
        assert r.status_code == 503 and r.mimetype == "application/problem+json"
        assert 1 <= int(r.headers["Retry-After"]) <= 30
        # Operators are not shed by the player gate.
        assert client.get("/api/v1/fleet", headers=world["viewer"].headers).status_code == 200
    finally:
        for _ in held:
            gate.leave()
    assert client.get("/api/v1/player/manifest", headers=device(token)).status_code == 200
    # Refused and served requests alike gave their slots back: the gate fills exactly again.
    held = [gate.enter() for _ in range(gate.limit)]
    try:
        with pytest.raises(ServiceUnavailable):
            gate.enter()
    finally:
        for _ in held:
            gate.leave()


def test_openapi_lists_the_player_protocol(app: Flask, client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    for path in ("/player/hello", "/player/manifest", "/player/plays", "/pairings/claim"):
        assert path in doc["paths"], path
    assert doc["paths"]["/player/manifest"]["get"]["description"] == "Access: device."


def test_requests_that_queued_too_long_in_front_are_shed(
    client: FlaskClient,
    world,  # type: ignore[no-untyped-def]
    clock,  # type: ignore[no-untyped-def]
) -> None:
    token, _ = pair(client, world["operator"].headers, world.school.id)
    # The proxy stamps its real clock; the app's (test) clock stands elsewhere on purpose.
    clock.set(datetime(2001, 1, 1, tzinfo=UTC))
    now = datetime.now(UTC).timestamp()
    for header, status in (
        (f"t={now - 6:.3f}", 503),  # nginx ${msec}: seconds with milliseconds
        (f"t={int((now - 6) * 1000)}", 503),  # integer milliseconds
        (f"t={int((now - 6) * 1_000_000)}", 503),  # integer microseconds
        (f"t={now - 1:.3f}", 200),
        ("t=yesterday", 200),  # unreadable: ignored
    ):
        r = client.get(
            "/api/v1/player/manifest", headers=device(token, **{"X-Request-Start": header})
        )
        assert r.status_code == status, header
        if status == 503:
            assert "queued" in r.json["detail"] and int(r.headers["Retry-After"]) >= 1
