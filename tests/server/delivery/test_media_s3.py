"""Media in a bucket: redirects to presigned URLs, start-up checks of SIGNAGE_MEDIA_URL,
and a 503 (never a 500) when the bucket cannot be reached."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.app import create_app
from server.clock import SettableClock
from server.config import Settings, load_settings
from server.errors import ConfigError
from server.media.s3 import IMMUTABLE
from server.media.store import MediaStore
from server.storage import EXTENSION_KEY
from tests.s3 import S3Server
from tests.server.delivery.test_media import _published_variant

REDIRECT_S = 600


@pytest.fixture
def media_settings(s3_server: S3Server) -> dict[str, object]:
    return {"media_url": s3_server.new_bucket(), "media_redirect_s": REDIRECT_S}


def test_published_media_redirect_to_a_presigned_url(
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    settings: Settings,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    _, sha, meta, _ = _published_variant(client, session, store, settings, world, clock)
    r = client.get(meta["url"], buffered=True)
    assert r.status_code == 302
    assert r.headers["Cache-Control"] == f"public, max-age={REDIRECT_S // 2}"
    direct = requests.get(r.headers["Location"], timeout=10)  # the bucket itself, over HTTP
    assert direct.status_code == 200 and hashlib.sha256(direct.content).hexdigest() == sha
    assert direct.headers["Content-Type"] == "image/jpeg"
    assert direct.headers["Cache-Control"] == IMMUTABLE
    # If-None-Match still costs nothing.
    cached = client.get(meta["url"], buffered=True, headers={"If-None-Match": f'"{sha}"'})
    assert cached.status_code == 304


def test_unpublished_media_are_streamed_to_operators_not_redirected(
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    from tests.server.delivery.content import image_asset

    draft = image_asset(session, store, world.city, "purple", clock.now())
    r = client.get(
        f"/media/{draft.sha256}.png", buffered=True, headers=world["city_operator"].headers
    )
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == draft.sha256
    assert r.headers["Cache-Control"].startswith("private")


def test_unreachable_bucket_is_503_with_retry_after(
    app: Flask,
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    settings: Settings,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
    tmp_path: Path,
) -> None:
    _, _, meta, _ = _published_variant(client, session, store, settings, world, clock)
    gone = S3Server(tmp_path / "unused.log")  # nobody listens on its port
    app.extensions[EXTENSION_KEY] = gone.store(gone.url("posters"), tmp_path / "staging")
    r = client.get(meta["url"], buffered=True)
    assert r.status_code == 503 and r.mimetype == "application/problem+json"
    assert r.headers["Retry-After"] == "5"


def _start(tmp_path: Path, **environ: str) -> None:
    env = {"SIGNAGE_INSTANCE_PATH": str(tmp_path), "SIGNAGE_SECRET_KEY": "x", **environ}
    create_app(load_settings(environ=env))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://posters", "SIGNAGE_MEDIA_URL: .*must start with s3://"),
        ("s3://posters?endpont=http://x", "SIGNAGE_MEDIA_URL: .*unknown option 'endpont'"),
    ],
)
def test_a_bad_media_url_stops_start_up_naming_the_variable(
    tmp_path: Path, url: str, says: str
) -> None:
    with pytest.raises(ConfigError, match=says):
        _start(tmp_path, SIGNAGE_MEDIA_URL=url)


def test_a_missing_bucket_stops_start_up(s3_server: S3Server, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SIGNAGE_MEDIA_URL: the bucket 'nowhere-x' does not"):
        _start(tmp_path, SIGNAGE_MEDIA_URL=s3_server.url("nowhere-x"))
