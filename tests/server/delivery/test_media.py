"""/media/{sha256}: immutable bytes with ETag, HEAD and Range; unpublished bytes stay private.
Every test runs with media on local disk and in a bucket of a real S3-protocol server."""

from __future__ import annotations

import hashlib

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.clock import SettableClock
from server.config import Settings
from server.media.store import MediaStore
from tests.server.delivery.content import campaign, device, image_asset, pair, publish

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(params=["local", "s3"])
def media_settings(request: pytest.FixtureRequest) -> dict[str, object]:
    if request.param == "local":
        return {}
    return {"media_url": request.getfixturevalue("s3_server").new_bucket()}


def _published_variant(client, session, store, settings, world, clock):  # type: ignore[no-untyped-def]
    poster = image_asset(session, store, world.province, "green", clock.now())
    row = campaign(
        session,
        world.province,
        "Week",
        clock.now(),
        playlists={"p": [(poster, 10_000)]},
        entries=[{"playlist": "p"}],
    )
    publish(session, row, clock.now(), settings)
    token, _ = pair(client, world["operator"].headers, world.school.id)
    body = client.get("/api/v1/player/manifest", buffered=True, headers=device(token)).json
    [(sha, meta)] = body["assets"].items()
    return token, sha, meta, poster


def test_published_media_is_immutable_with_head_range_and_etag(
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    settings: Settings,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    token, sha, meta, poster = _published_variant(client, session, store, settings, world, clock)
    r = client.get(meta["url"], buffered=True)
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == sha
    assert r.headers["ETag"] == f'"{sha}"' and r.headers["Cache-Control"] == IMMUTABLE
    assert r.headers["Accept-Ranges"] == "bytes" and r.mimetype == "image/jpeg"
    assert int(r.headers["Content-Length"]) == meta["size"] == len(r.data)
    whole = r.data

    head = client.head(f"/media/{sha}", buffered=True)
    assert head.status_code == 200 and head.data == b""
    assert int(head.headers["Content-Length"]) == meta["size"]
    assert head.headers["Cache-Control"] == IMMUTABLE

    part = client.get(meta["url"], buffered=True, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == whole[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(whole)}"
    tail = client.get(meta["url"], buffered=True, headers={"Range": "bytes=100-"})
    assert tail.status_code == 206 and tail.data == whole[100:]
    bad = client.get(meta["url"], buffered=True, headers={"Range": f"bytes={len(whole) + 5}-"})
    assert bad.status_code == 416

    cached = client.get(meta["url"], buffered=True, headers={"If-None-Match": f'"{sha}"'})
    assert cached.status_code == 304 and cached.data == b""
    assert cached.headers["ETag"] == f'"{sha}"'
    # A device token changes nothing; the source poster of a published item is public too.
    assert client.get(f"/media/{sha}.jpg", buffered=True, headers=device(token)).status_code == 200
    assert client.get(f"/media/{poster.sha256}.png", buffered=True).status_code == 200


def test_unpublished_media_is_404_except_for_operators_in_scope(
    client: FlaskClient,
    session: Session,
    store: MediaStore,
    settings: Settings,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
) -> None:
    draft = image_asset(session, store, world.city, "purple", clock.now())
    token, _ = pair(client, world["operator"].headers, world.school.id)
    url = f"/media/{draft.sha256}.png"
    assert client.get(url, buffered=True).status_code == 404
    assert client.get(url, buffered=True, headers=device(token)).status_code == 404
    assert client.head(url, buffered=True).status_code == 404
    assert client.get(url, buffered=True, headers=world["outsider"].headers).status_code == 404
    r = client.get(url, buffered=True, headers=world["city_operator"].headers)
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == draft.sha256
    assert r.headers["Cache-Control"].startswith("private")
    assert (
        client.get(url, buffered=True, headers={"Authorization": "Bearer sgt_bogus"}).status_code
        == 401
    )


def test_names_that_are_not_hashes_are_404(client: FlaskClient) -> None:
    for name in ("abc", "../etc/passwd", "A" * 64, "a" * 64 + ".exe", "a" * 65):
        r = client.get(f"/media/{name}", buffered=True)
        assert r.status_code == 404 and r.mimetype == "application/problem+json", name
    assert (
        client.get("/media/" + "a" * 64 + ".png", buffered=True).status_code == 404
    )  # well formed, unknown
