"""POST /api/v1/assets/slogans: checked against the font, rendered once, previewed."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from PIL import Image, ImageChops
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.assets.models import Asset, Variant
from server.media.errors import InvalidMediaRequest, MediaSetupError
from server.media.fonts import find_font
from tests.factories import World
from tests.server.assets.helpers import body, counts, get

SLOGAN = "网络安全为人民，网络安全靠人民"
URL = "/api/v1/assets/slogans"
RED = (0xB0, 0x17, 0x1F)


@pytest.fixture(autouse=True)
def fonts() -> None:
    for family, package in (
        ("Noto Sans CJK SC", "fonts-noto-cjk"),
        ("DejaVu Sans", "fonts-dejavu-core"),
    ):
        try:
            find_font(family, "bold")
        except (InvalidMediaRequest, MediaSetupError):
            pytest.skip(f"fontconfig has no {family!r} font (Debian package {package})")


def ink(data: bytes, background: tuple[int, int, int] = RED) -> tuple[int, int, int, int]:
    with Image.open(io.BytesIO(data)) as img:
        plain = Image.new("RGB", img.size, background)
        box = ImageChops.difference(img.convert("RGB"), plain).getbbox()
    assert box is not None, "nothing was drawn"
    return box


def test_chinese_slogan_is_created_rendered_and_previewed(
    client: FlaskClient, world: World, session: Session
) -> None:
    response = client.post(
        URL, json={"text": SLOGAN, "title": "开幕日"}, headers=world["operator"].headers
    )

    assert response.status_code == 201, body(response)
    made = body(response)
    assert made["kind"] == "slogan" and made["title"] == "开幕日"
    assert made["slogan"] == {"text": SLOGAN, "style": {}}
    assert made["organisation_id"] == world.province.id
    # Created with a poster for the first profile and a thumbnail made from it.
    profiles = set(
        session.scalars(select(Variant.profile).where(Variant.source_sha256 == made["sha256"]))
    )
    assert profiles == {"1920x1080", "thumb"}

    preview = get(client, made["preview_url"], world["viewer"].headers)
    assert preview.status_code == 200 and preview.mimetype == "image/png"
    assert preview.headers["Signage-Profile"] == "1920x1080"
    left, top, right, bottom = ink(preview.data)
    assert right - left > 800 and bottom - top > 150, "two lines of large glyphs"

    portrait = get(client, made["preview_url"] + "?profile=1080x1920", world["viewer"].headers)
    with Image.open(io.BytesIO(portrait.data)) as img:
        assert img.size == (1080, 1920)
    thumb = get(client, made["thumbnail_url"], world["viewer"].headers)
    with Image.open(io.BytesIO(thumb.data)) as img:
        assert img.size == (320, 180)

    again = client.post(URL, json={"text": SLOGAN}, headers=world["operator"].headers)
    assert again.status_code == 200 and body(again)["id"] == made["id"]


def test_character_the_font_lacks_is_refused_by_name(
    client: FlaskClient, world: World, session: Session
) -> None:
    before = counts(session)

    ethiopic = client.post(URL, json={"text": "网络安全 ሀ"}, headers=world["operator"].headers)
    latin_font = client.post(
        URL,
        json={"text": "Cybersecurity 网", "style": {"font_family": "DejaVu Sans"}},
        headers=world["operator"].headers,
    )

    assert ethiopic.status_code == 422 and ethiopic.mimetype == "application/problem+json"
    assert "'ሀ' (U+1200)" in body(ethiopic)["detail"]
    assert body(ethiopic)["errors"][0]["field"] == "text"
    assert latin_font.status_code == 422
    assert "DejaVu Sans" in body(latin_font)["detail"] and "U+7F51" in body(latin_font)["detail"]
    assert counts(session) == before
    assert session.scalar(select(Asset.id)) is None


def test_bad_styles_and_texts_name_their_field(client: FlaskClient, world: World) -> None:
    headers = world["operator"].headers
    cases = [
        ({"text": SLOGAN, "style": {"weight": "heavy"}}, "style.weight"),
        ({"text": SLOGAN, "style": {"font_path": "/etc/passwd"}}, "style.font_path"),
        ({"text": SLOGAN, "style": {"font_family": "No Such Font 42"}}, "style.font_family"),
        ({"text": "x" * 501}, "text"),
        ({"text": "bell\x07"}, "text"),
        ({"text": SLOGAN, "style": {"min_font_size": 400}}, "text"),  # cannot fit
        ({"text": SLOGAN, "colour": "red"}, "colour"),
    ]
    for payload, field in cases:
        response = client.post(URL, json=payload, headers=headers)
        assert response.status_code == 422, (payload, body(response))
        assert field in {e["field"] for e in body(response)["errors"]}, body(response)


def test_slogans_are_scoped_like_uploads(client: FlaskClient, world: World) -> None:
    text = {"text": SLOGAN}
    assert client.post(URL, json=text, headers=world["viewer"].headers).status_code == 403
    outside = {**text, "organisation_id": world.other.id}
    assert client.post(URL, json=outside, headers=world["operator"].headers).status_code == 404
    school = {**text, "organisation_id": world.school.id}
    made = client.post(URL, json=school, headers=world["city_operator"].headers)
    assert made.status_code == 201 and body(made)["organisation_id"] == world.school.id
    # A province viewer sees it (the school is in its subtree); another tree does not.
    seen = get(client, body(made)["preview_url"], world["viewer"].headers)
    assert seen.status_code == 200
    assert get(client, body(made)["preview_url"], world["outsider"].headers).status_code == 404
