"""POST /api/v1/assets: stored once by hash, one asset per organisation, scoped, audited."""

from __future__ import annotations

import io
from pathlib import Path

from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from server.accounts.models import Membership, Role
from server.assets.models import Asset, Variant
from server.auth.models import AuditEvent
from tests.factories import World
from tests.server.assets.helpers import blobs, body, counts, get, post_form, upload
from tests.server.media.samples import encoded, noise

PROBLEM = "application/problem+json"


def poster(width: int = 64, height: int = 48) -> bytes:
    return encoded(noise(width, height), "PNG")


def test_upload_stores_the_image_with_a_thumbnail_and_an_audit_event(
    client: FlaskClient, world: World, session: Session, media_root: Path
) -> None:
    response = upload(
        client, world["operator"].headers, poster(640, 480), "campus week.png", title="Campus"
    )

    assert response.status_code == 201, body(response)
    made = body(response)
    assert made["kind"] == "image" and made["media_type"] == "image/png"
    assert (made["width"], made["height"]) == (640, 480)
    assert made["organisation_id"] == world.province.id
    assert made["original_name"] == "campus week.png" and made["title"] == "Campus"
    assert made["thumbnail_url"] == f"/api/v1/assets/{made['id']}/thumbnail?v={made['sha256'][:16]}"
    assert response.headers["Location"] == f"/api/v1/assets/{made['id']}"
    shard = f"{made['sha256'][:2]}/{made['sha256'][2:4]}/{made['sha256']}"
    assert (media_root / shard).stat().st_size == made["size"]

    thumb = session.scalar(select(Variant).where(Variant.source_sha256 == made["sha256"]))
    assert thumb is not None and thumb.profile == "thumb"
    assert (thumb.width, thumb.height) == (320, 240)
    event = session.scalar(select(AuditEvent).where(AuditEvent.object_type == "asset"))
    assert event is not None and event.action == "create" and event.object_id == str(made["id"])

    got = get(client, made["thumbnail_url"], world["viewer"].headers)
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert got.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert got.headers["ETag"] == f'"{thumb.sha256}"'
    with Image.open(io.BytesIO(got.data)) as img:
        assert img.size == (320, 240)


def test_same_bytes_twice_are_one_file_and_one_asset_per_organisation(
    client: FlaskClient, world: World, session: Session, media_root: Path
) -> None:
    data = poster()
    first = upload(client, world["operator"].headers, data, "a.png")
    again = upload(client, world["operator"].headers, data, "renamed.png")
    stored = blobs(media_root)
    elsewhere = upload(client, world["outsider"].headers, data, "b.png")

    assert first.status_code == 201 and again.status_code == 200
    assert body(again)["id"] == body(first)["id"] and body(again)["original_name"] == "a.png"
    assert elsewhere.status_code == 201
    assert body(elsewhere)["id"] != body(first)["id"]
    assert body(elsewhere)["sha256"] == body(first)["sha256"]
    assert body(elsewhere)["organisation_id"] == world.other.id
    # The asset and its thumbnail: two blobs, shared by both organisations' rows.
    assert blobs(media_root) == stored and len(stored) == 2
    assert counts(session) == (2, 1)


def test_organisation_defaults_to_the_only_one_and_is_scoped(
    client: FlaskClient, world: World
) -> None:
    data = poster()
    school = upload(
        client, world["city_operator"].headers, data, organisation_id=str(world.school.id)
    )
    assert school.status_code == 201 and body(school)["organisation_id"] == world.school.id

    # An ancestor's content is read-only for a city operator; another tree is invisible.
    upward = upload(
        client, world["city_operator"].headers, data, organisation_id=str(world.province.id)
    )
    assert upward.status_code == 404 and upward.mimetype == PROBLEM
    across = upload(client, world["operator"].headers, data, organisation_id=str(world.other.id))
    assert across.status_code == 404
    viewer = upload(client, world["viewer"].headers, data)
    assert viewer.status_code == 403 and viewer.mimetype == PROBLEM
    nobody = upload(client, {}, data)
    assert nobody.status_code == 401


def test_organisation_is_required_when_the_caller_has_several(
    client: FlaskClient, world: World, session: Session
) -> None:
    headers = world["city_operator"].headers
    own = upload(client, headers, poster())
    assert own.status_code == 201 and body(own)["organisation_id"] == world.city.id
    user_id = world["city_operator"].user.id
    session.add(Membership(user_id=user_id, organisation_id=world.other.id, role=Role.VIEWER))
    session.commit()

    ambiguous = upload(client, headers, poster())
    weak = upload(client, headers, poster(), organisation_id=str(world.other.id))

    assert ambiguous.status_code == 422
    assert body(ambiguous)["errors"] == [{"field": "organisation_id", "reason": "required"}]
    assert weak.status_code == 403 and "operator" in body(weak)["detail"]


def unnamed(client: FlaskClient, headers: dict[str, str], disposition: bytes) -> TestResponse:
    """A form with one part whose Content-Disposition has no (or an empty) name."""
    part = b"--b\r\nContent-Disposition: form-data; " + disposition + b"\r\n\r\nabc\r\n--b--\r\n"
    return client.post(
        "/api/v1/assets", data=part, headers=headers, content_type="multipart/form-data; boundary=b"
    )


def test_bad_forms_are_problems_naming_the_field(client: FlaskClient, world: World) -> None:
    headers = world["operator"].headers
    cases = [
        (
            client.post("/api/v1/assets", data=poster(), headers=headers, content_type="image/png"),
            415,
            "Content-Type",
        ),
        (post_form(client, "/api/v1/assets", headers, {"title": "x"}), 422, "file"),
        (post_form(client, "/api/v1/assets", headers, {"file": "text"}), 422, "file"),
        (upload(client, headers, poster(), colour="red"), 422, "colour"),
        (unnamed(client, headers, b'name=""'), 422, "(unnamed part)"),
        (unnamed(client, headers, b'filename="a.png"'), 422, "(unnamed part)"),
        (upload(client, headers, poster(), organisation_id="-3"), 422, "organisation_id"),
        (upload(client, headers, poster(), title="t" * 301), 422, "title"),
    ]
    for response, status, field in cases:
        assert response.status_code == status, (field, body(response))
        assert response.mimetype == PROBLEM
        assert field in {e["field"] for e in body(response).get("errors", [])}, body(response)


def test_file_name_is_display_metadata_only(
    client: FlaskClient, world: World, media_root: Path, tmp_path: Path
) -> None:
    name = "../../evil\x00\u202egnp.exe\x1b[31m.png"
    response = upload(client, world["operator"].headers, poster(), name)

    assert response.status_code == 201, body(response)
    assert body(response)["original_name"] == "evilgnp.exe[31m.png"
    assert all(len(p.name) == 64 for p in media_root.rglob("*") if p.is_file()), (
        "storage names come from the hash"
    )
    assert not list(tmp_path.glob("evil*")) and not list(media_root.parent.glob("evil*"))


def test_exif_rotated_jpeg_is_stored_upright_without_exif(
    client: FlaskClient, world: World, session: Session, media_root: Path
) -> None:
    # Stored 60x40 with orientation 6 ("rotate 90° clockwise to view"): upright it is
    # 40x60, and the pixel that is top-left when stored lands top-right.
    img = Image.new("RGB", (60, 40), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Camera Maker"
    data = encoded(img, "JPEG", quality=95, exif=exif.tobytes())

    response = upload(client, world["operator"].headers, data, "phone.jpg")

    assert response.status_code == 201, body(response)
    assert (body(response)["width"], body(response)["height"]) == (40, 60)
    sha = body(response)["sha256"]
    stored = (media_root / sha[:2] / sha[2:4] / sha).read_bytes()
    assert b"Exif" not in stored and b"Camera Maker" not in stored
    with Image.open(io.BytesIO(stored)) as kept:
        assert kept.size == (40, 60)
        assert not kept.getexif()
        red, green, blue = kept.convert("RGB").getpixel((35, 4))  # type: ignore[misc]
        assert red > 200 and green < 60 and blue < 60
    asset = session.get(Asset, body(response)["id"])
    assert asset is not None and (asset.width, asset.height) == (40, 60)


def test_thumbnail_revalidates_with_etag_and_is_scoped(client: FlaskClient, world: World) -> None:
    created = body(upload(client, world["operator"].headers, poster(800, 200)))
    plain = f"/api/v1/assets/{created['id']}/thumbnail"

    first = get(client, plain, world["viewer"].headers)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = get(client, plain, {**world["viewer"].headers, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # A school sees its province's posters (content flows down); another tree does not.
    school_viewer = get(client, plain, world["city_operator"].headers)
    assert school_viewer.status_code == 200
    assert get(client, plain, world["outsider"].headers).status_code == 404
    assert get(client, "/api/v1/assets/999999/thumbnail", world["admin"].headers).status_code == 404


def test_preview_renders_the_screen_variant_once(
    client: FlaskClient, world: World, session: Session
) -> None:
    created = body(upload(client, world["operator"].headers, poster(400, 300)))
    url = f"/api/v1/assets/{created['id']}/preview"
    before = counts(session)

    first = get(client, url + "?profile=1080x1920&fit=cover", world["viewer"].headers)
    again = get(client, url + "?profile=1080x1920&fit=cover", world["viewer"].headers)
    nearest = get(client, url + "?profile=1366x768", world["viewer"].headers)

    assert first.status_code == 200 and first.headers["Signage-Profile"] == "1080x1920"
    with Image.open(io.BytesIO(first.data)) as img:
        assert img.size == (1080, 1920)
    assert again.data == first.data
    assert nearest.headers["Signage-Profile"] == "1280x720"
    assert counts(session) == (before[0], before[1] + 2)
    bad = get(client, url + "?profile=wide", world["viewer"].headers)
    assert bad.status_code == 422 and body(bad)["errors"][0]["field"] == "profile"
