"""Helpers for the upload tests: settings with small caps, a multipart POST, counts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from server.config import Settings, load_settings
from server.models import Asset, Variant

MAX_UPLOAD_BYTES = 1024 * 1024
MAX_IMAGE_PIXELS = 10_000_000


def settings_for(database_url: str, instance: Path, **overrides: Any) -> Settings:
    values = {
        "instance_path": instance,
        "database_url": database_url,
        "secret_key": "test-secret",
        "max_upload_bytes": MAX_UPLOAD_BYTES,
        "max_image_pixels": MAX_IMAGE_PIXELS,
        "heartbeat_thread": False,
    }
    return load_settings({**values, **overrides}, environ={})


def multipart(fields: dict[str, object]) -> tuple[bytes, str]:
    """A multipart body built in memory (the test client would spool a big one to an
    unclosed temp file) and its content type. A (bytes, name) value is a file part."""
    values: dict[str, object] = {
        key: FileStorage(io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
        for key, value in fields.items()
    }
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"


def post_form(
    client: FlaskClient, url: str, headers: dict[str, str], fields: dict[str, object]
) -> TestResponse:
    body, content_type = multipart(fields)
    return client.post(url, data=body, headers=headers, content_type=content_type)


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    data: bytes,
    name: str = "poster.png",
    **fields: object,
) -> TestResponse:
    return post_form(client, "/api/v1/assets", headers, {"file": (data, name), **fields})


def get(client: FlaskClient, url: str, headers: dict[str, str]) -> TestResponse:
    """GET, read the body and close the response (a file response holds the file open)."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


def counts(session: Session) -> tuple[int, int]:
    """(asset rows, variant rows), read fresh."""
    session.expire_all()
    assets = session.scalar(select(func.count()).select_from(Asset)) or 0
    variants = session.scalar(select(func.count()).select_from(Variant)) or 0
    session.rollback()
    return assets, variants


def blobs(root: Path) -> set[str]:
    """Committed blobs and leftover staging files under the store root."""
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def body(response: TestResponse) -> Any:
    """The response's JSON (a problem or a resource)."""
    return response.get_json()
