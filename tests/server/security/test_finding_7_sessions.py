"""Issue 12, finding 7: sessions end on the server, and their cookie is Secure over HTTPS."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from server.app import create_app
from server.clock import SettableClock
from server.config import load_settings
from server.db import get_db
from tests.conftest import T0
from tests.factories import PASSWORD

SESSION = "/api/v1/session"
USERS = "/api/v1/users"


def _login(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    r = client.post(SESSION, json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.json
    assert client.get(SESSION).status_code == 200
    return client


def _cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str) -> int:
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get(SESSION).status_code


def test_finding_7_a_cookie_replayed_after_logout_is_refused(app: Flask, world: Any) -> None:
    client = _login(app, "viewer@province.test")
    stolen = _cookie(client)
    assert client.delete(SESSION).status_code == 204
    assert _replay(app, stolen) == 401


def test_finding_7_password_change_and_deactivation_end_the_users_sessions(
    app: Flask, world: Any
) -> None:
    admin = world["admin"].headers
    viewer = world["viewer"].user.id
    first = _login(app, "viewer@province.test")
    stolen = _cookie(first)
    r = first.application.test_client().patch(
        f"{USERS}/{viewer}", json={"password": "a brand new passphrase"}, headers=admin
    )
    assert r.status_code == 200, r.json
    assert first.get(SESSION).status_code == 401
    assert _replay(app, stolen) == 401

    operator = world["operator"].user.id
    second = _login(app, "operator@province.test")
    r = app.test_client().patch(f"{USERS}/{operator}", json={"active": False}, headers=admin)
    assert r.status_code == 200, r.json
    assert second.get(SESSION).status_code == 401
    r = app.test_client().patch(f"{USERS}/{operator}", json={"active": True}, headers=admin)
    assert r.status_code == 200
    assert second.get(SESSION).status_code == 401  # reactivation does not revive the session


def test_finding_7_sessions_have_an_absolute_and_an_idle_lifetime(
    app: Flask, world: Any, clock: SettableClock
) -> None:
    settings = app.config["SIGNAGE"]
    busy = _login(app, "viewer@province.test")
    # Used every 30 minutes, it still ends at the absolute lifetime.
    end = T0 + timedelta(hours=settings.session_lifetime_hours)
    while clock.now() + timedelta(minutes=30) < end:
        clock.set(clock.now() + timedelta(minutes=30))
        assert busy.get(SESSION).status_code == 200, clock.now()
    clock.set(end + timedelta(seconds=1))
    assert busy.get(SESSION).status_code == 401

    idle = _login(app, "viewer@province.test")
    clock.set(clock.now() + timedelta(minutes=settings.session_idle_minutes, seconds=1))
    assert idle.get(SESSION).status_code == 401


def _proxied_app(database_url: str, tmp_path: Path, proxies: str) -> Flask:
    settings = load_settings(
        {
            "instance_path": tmp_path / "instance-behind",
            "database_url": database_url,
            "secret_key": "test-secret",
            "trusted_proxies": proxies,
        },
        environ={},
    )
    app = create_app(settings, clock_=SettableClock(T0))
    app.config["TESTING"] = True
    return app


def _set_cookie(response: Any) -> str:
    cookies = [v for k, v in response.headers.items() if k.lower() == "set-cookie"]
    return next(c for c in cookies if c.startswith("session="))


def test_finding_7_the_session_cookie_is_secure_over_https_and_behind_a_trusted_proxy(
    app: Flask, world: Any, database_url: str, tmp_path: Path
) -> None:
    body = {"email": "viewer@province.test", "password": PASSWORD}
    plain = app.test_client().post(SESSION, json=body)
    assert "Secure" not in _set_cookie(plain)
    direct = app.test_client().post(SESSION, json=body, base_url="https://signage.test")
    assert "Secure" in _set_cookie(direct)

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    untrusted = app.test_client().post(SESSION, json=body, headers=forwarded)
    assert "Secure" not in _set_cookie(untrusted)  # anyone can send that header
    # The test client connects from 127.0.0.1: the proxy in front, as behind nginx.
    behind = _proxied_app(database_url, tmp_path, "127.0.0.1")
    try:
        r = behind.test_client().post(SESSION, json=body, headers=forwarded)
        assert r.status_code == 201 and "Secure" in _set_cookie(r)
    finally:
        get_db(behind).engine.dispose()


def test_finding_7_a_session_sees_its_unpublished_media_until_logout(
    app: Flask, world: Any
) -> None:
    png = io.BytesIO()
    Image.new("RGB", (32, 24), "green").save(png, format="PNG")
    r = app.test_client().post(
        "/api/v1/assets",
        data={"file": (io.BytesIO(png.getvalue()), "p.png"), "organisation_id": str(world.city.id)},
        headers=world["operator"].headers,
    )
    assert r.status_code == 201, r.json
    url = f"/media/{r.json['sha256']}"
    browser = _login(app, "viewer@province.test")
    seen = browser.get(url)
    seen.close()  # release the file it streams
    assert seen.status_code == 200
    assert app.test_client().get(url).status_code == 404  # unpublished: not for anyone
    browser.delete(SESSION)
    assert browser.get(url).status_code == 404
