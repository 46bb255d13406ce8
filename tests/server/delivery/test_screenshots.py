"""Screenshots: checked by decoding, size-capped, the latest kept, shown to operators in scope."""

from __future__ import annotations

import hashlib

from flask.testing import FlaskClient

from tests.server.delivery.content import device, jpeg_bytes, pair, png_bytes

SHOT = "/api/v1/player/screenshot"


def _upload(client: FlaskClient, token: str, data: bytes, media_type: str):  # type: ignore[no-untyped-def]
    return client.post(SHOT, data=data, headers=device(token, **{"Content-Type": media_type}))


def test_latest_screenshot_is_kept_and_shown_in_scope(client: FlaskClient, world) -> None:  # type: ignore[no-untyped-def]
    token, screen_id = pair(client, world["operator"].headers, world.school.id)
    url = f"/api/v1/screens/{screen_id}/screenshot"
    assert client.get(url, headers=world["viewer"].headers).status_code == 404
    assert _upload(client, token, png_bytes("red"), "image/png").status_code == 201
    latest = jpeg_bytes("blue")
    assert _upload(client, token, latest, "image/jpeg").status_code == 201
    r = client.get(url, headers=world["viewer"].headers, buffered=True)
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data == latest
    assert r.headers["ETag"] == f'"{hashlib.sha256(latest).hexdigest()}"'
    assert r.headers["Cache-Control"] == "private, no-cache"
    assert client.get(url, headers=world["outsider"].headers).status_code == 404
    assert client.get(url, headers=device(token)).status_code == 401


def test_screenshots_are_checked(client: FlaskClient, world, app) -> None:  # type: ignore[no-untyped-def]
    token, _ = pair(client, world["operator"].headers, world.school.id)
    cap = app.config["SIGNAGE"].screenshot_max_bytes
    assert _upload(client, token, b"\x89PNG" + b"\0" * (cap + 1), "image/png").status_code == 413
    assert _upload(client, token, png_bytes("red"), "image/gif").status_code == 415
    assert _upload(client, token, png_bytes("red"), "image/jpeg").status_code == 415
    assert _upload(client, token, b"<svg onload=alert(1)>", "image/png").status_code == 415
    truncated = png_bytes("red", (400, 300))[:200]
    r = _upload(client, token, truncated, "image/png")
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert _upload(client, "sgd_unknown", png_bytes("red"), "image/png").status_code == 401
