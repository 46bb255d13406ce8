"""Issue 12, finding 3: the Signage-Status header is a flat schema of known fields."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.delivery.runtime import PlayerRuntime
from server.screens.heartbeats import parse_status
from server.screens.models import Screen
from tests.server.delivery.content import device, pair

MANIFEST = "/api/v1/player/manifest"


def _nested(depth: int) -> str:
    return '{"asset":"a","x":' + "[" * depth + "]" * depth + "}"


def test_finding_3_deeply_nested_statuses_break_neither_the_poll_nor_the_screen_list(
    client: FlaskClient, session: Session, runtime: PlayerRuntime, world: Any
) -> None:
    token, screen_id = pair(client, world["operator"].headers, world.school.id)
    for depth in (600, 1200):
        header = _nested(depth)
        assert len(header) <= 4096
        r = client.get(MANIFEST, headers=device(token, **{"Signage-Status": header}))
        assert r.status_code == 200, r.data[:300]
        runtime.heartbeats.flush()
        r = client.get(f"/api/v1/screens/{screen_id}", headers=world["operator"].headers)
        assert r.status_code == 200, r.data[:300]
        assert client.get("/api/v1/screens", headers=world["viewer"].headers).status_code == 200

    # A status stored before this fix is read through the same schema.
    row = session.get(Screen, screen_id)
    assert row is not None
    deep: Any = {}
    for _ in range(600):
        deep = {"a": deep}
    row.status = {"asset": "b", "junk": deep}
    session.commit()
    for url in ("/api/v1/screens", f"/api/v1/screens/{screen_id}", "/api/v1/fleet"):
        r = client.get(url, headers=world["viewer"].headers)
        assert r.status_code == 200, (url, r.data[:300])
    shown = client.get(f"/api/v1/screens/{screen_id}", headers=world["viewer"].headers).json
    assert shown["status"] == {"asset": "b"}


def test_finding_3_only_known_fields_of_the_right_type_and_length_are_kept() -> None:
    status = {
        "manifest": "v1",
        "asset": "f" * 64,
        "playlist": None,
        "player_version": "0.1.0",
        "uptime_s": 5,
        "disk_free_bytes": 10,
        "cache_shortage_bytes": True,  # a bool is not a count
        "dropped_events": -1,
        "errors": ["one", 2, "x" * 300] + ["e"] * 20,
        "extra": "dropped",
        "html": "<script>",
    }
    parsed = parse_status(json.dumps(status))
    assert parsed == {
        "manifest": "v1",
        "asset": "f" * 64,
        "playlist": None,
        "player_version": "0.1.0",
        "uptime_s": 5,
        "disk_free_bytes": 10,
        "errors": ["one", "x" * 200] + ["e"] * 8,
    }
    assert parse_status(json.dumps({"player_version": "v" * 41})) == {}
    assert parse_status(json.dumps({"playlist": {"nested": "object"}})) == {}
