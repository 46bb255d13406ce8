"""Issue 12, finding 6: every route has a body limit, and deep JSON is a 400, never a 500."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.api.registry import api
from tests.server.api import objects

PROBLEM = "application/problem+json"
MAX_JSON_BYTES = 64 * 1024  # the bound for JSON routes


def _json(client: FlaskClient, path: str, raw: str | bytes, **kw: Any) -> Any:
    return client.post(path, data=raw, content_type="application/json", **kw)


def test_finding_6_unauthenticated_routes_refuse_big_bodies_before_reading_them(
    client: FlaskClient, world: Any
) -> None:
    big = json.dumps({"email": "x" * (MAX_JSON_BYTES + 1), "password": "p"})
    for path in ("/api/v1/session", "/api/v1/player/hello", "/api/v1/pairings/claim"):
        r = _json(client, path, big)
        assert r.status_code == 413 and r.mimetype == PROBLEM, (path, r.status_code)
    # Routes without a body model are bounded too.
    r = client.delete("/api/v1/session", data=b"x" * (MAX_JSON_BYTES + 1))
    assert r.status_code == 413


def test_finding_6_deeply_nested_json_is_a_400_without_a_traceback(
    client: FlaskClient, world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    deep = '{"email":' + "[" * 5000 + "]" * 5000 + ',"password":"p"}'
    assert len(deep) < MAX_JSON_BYTES
    caplog.set_level(logging.ERROR)
    cases = [
        ("/api/v1/session", {}),
        ("/api/v1/player/hello", {}),
        ("/api/v1/playlists", {"headers": world["operator"].headers}),
    ]
    for path, kw in cases:
        r = _json(client, path, deep, **kw)
        assert r.status_code in (400, 422) and r.mimetype == PROBLEM, (path, r.status_code)
        assert "Traceback" not in r.get_data(as_text=True)
    assert not [rec for rec in caplog.records if rec.levelno >= logging.ERROR]


def test_finding_6_every_json_route_has_the_64_kib_limit_unless_it_declares_its_own(
    app: Flask,
) -> None:
    limits = {op.endpoint: getattr(op, "max_body", None) for op in api.operations}
    own = {name: limit for name, limit in limits.items() if limit != MAX_JSON_BYTES}
    assert set(own) == {
        "uploads.upload",
        "player.plays",
        "player.screenshot",
        "playlists.create_playlist",
        "playlists.replace_items",
    }, own
    assert app.config["MAX_CONTENT_LENGTH"] == MAX_JSON_BYTES  # routes outside the API too


def test_finding_6_routes_with_their_own_limit_still_take_their_bodies(
    client: FlaskClient, world: Any, session: Session, clock: Any
) -> None:
    poster = objects.asset(session, world.city, "Poster", clock.now())
    playlist = objects.playlist(session, world.city, "Long", clock.now())
    items = [
        {"asset_id": poster.id, "duration_ms": 10_000, "fit": "contain", "transition": "crossfade"}
    ] * 1000
    body = json.dumps({"items": items})
    assert len(body) > MAX_JSON_BYTES
    r = client.put(
        f"/api/v1/playlists/{playlist.id}/items",
        data=body,
        content_type="application/json",
        headers=world["operator"].headers,
    )
    assert r.status_code == 200, r.json
