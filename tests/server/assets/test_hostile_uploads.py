"""Hostile uploads over the API: a 4xx problem with its reason, and nothing new anywhere."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from server.errors import PayloadTooLarge
from tests.factories import World
from tests.server.assets.helpers import MAX_UPLOAD_BYTES, blobs, body, counts, multipart, upload
from tests.server.media.samples import (
    HOSTILE,
    POLYGLOT_SCRIPT,
    Hostile,
    encoded,
    noise,
    polyglot_gif,
)

PROBLEM = "application/problem+json"
# (asset rows, variant rows) and the files under the store root
Baseline = tuple[tuple[int, int], set[str]]
SCRIPT_HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.fixture
def baseline(client: FlaskClient, world: World, session: Session, media_root: Path) -> Baseline:
    """One good upload first, so "nothing new" is checked against a non-empty state."""
    good = upload(client, world["operator"].headers, encoded(noise(40, 30), "PNG"))
    assert good.status_code == 201
    return counts(session), blobs(media_root)


def assert_nothing_new(session: Session, media_root: Path, baseline: Baseline) -> None:
    assert counts(session) == baseline[0]
    assert blobs(media_root) == baseline[1]  # no blob and no staging file left behind


def _cases() -> list[tuple[str, bytes, int, str]]:
    cases = [(h.name, h.make(), h.error.status, h.reason) for h in HOSTILE]
    cases.append(("../../etc/cron.d/x\x00.png", SCRIPT_HTML, 415, "HTML"))
    return cases


def _ids(case: tuple[str, bytes, int, str]) -> str:
    return case[0].replace("\x00", "NUL")


@pytest.mark.parametrize("case", _cases(), ids=_ids)
def test_hostile_upload_is_a_problem_and_leaves_nothing(
    case: tuple[str, bytes, int, str],
    client: FlaskClient,
    world: World,
    session: Session,
    media_root: Path,
    baseline: Baseline,
) -> None:
    name, data, status, reason = case

    response = upload(client, world["operator"].headers, data, name)

    assert response.status_code == status, body(response)
    assert response.mimetype == PROBLEM
    assert reason.lower() in body(response)["detail"].lower()
    assert body(response)["errors"][0]["field"] == "file"
    assert_nothing_new(session, media_root, baseline)


def test_the_samples_cover_the_corpus() -> None:
    names = {h.name for h in HOSTILE}
    assert {"bomb.png", "huge-dimensions.png", "truncated.png", "truncated.jpg"} <= names
    assert {"zero-bytes.png", "script.svg", "page.png", "archive.png"} <= names
    assert all(isinstance(h, Hostile) for h in HOSTILE)


def test_file_part_over_the_cap_is_413_while_streaming(
    client: FlaskClient, world: World, session: Session, media_root: Path, baseline: Baseline
) -> None:
    # Under MAX_CONTENT_LENGTH (cap + 1 MiB), so the store's own check stops it.
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_UPLOAD_BYTES

    response = upload(client, world["operator"].headers, data, "big.png")

    assert response.status_code == PayloadTooLarge.status == 413
    assert response.mimetype == PROBLEM
    assert f"limit of {MAX_UPLOAD_BYTES} bytes" in body(response)["detail"]
    assert_nothing_new(session, media_root, baseline)


def test_body_over_the_content_length_cap_is_413_before_it_is_read(
    client: FlaskClient, world: World, session: Session, media_root: Path, baseline: Baseline
) -> None:
    data, content_type = multipart({"file": (b"\0" * (3 * MAX_UPLOAD_BYTES), "huge.png")})
    stream = io.BytesIO(data)

    response = client.post(
        "/api/v1/assets",
        input_stream=stream,
        headers={**world["operator"].headers, "Content-Length": str(len(data))},
        content_type=content_type,
    )

    assert response.status_code == 413 and response.mimetype == PROBLEM
    assert body(response)["errors"][0]["field"] == "file"
    assert stream.tell() == 0, "the body was refused from its declared length, unread"
    assert_nothing_new(session, media_root, baseline)


def test_gif_javascript_polyglot_is_accepted_only_re_encoded(
    client: FlaskClient, world: World, media_root: Path
) -> None:
    data = polyglot_gif()
    assert POLYGLOT_SCRIPT in data

    response = upload(client, world["operator"].headers, data, "innocent.gif")

    assert response.status_code == 201, body(response)
    assert body(response)["media_type"] == "image/png"
    sha = body(response)["sha256"]
    stored = (media_root / sha[:2] / sha[2:4] / sha).read_bytes()
    assert stored.startswith(b"\x89PNG") and b"alert" not in stored
    for path in media_root.rglob("*"):
        if path.is_file():
            assert POLYGLOT_SCRIPT not in path.read_bytes(), path
    with Image.open(io.BytesIO(stored)) as img:
        assert img.size == (0x2A2F, 4)
