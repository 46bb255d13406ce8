"""Helpers for the upload tests: settings with small caps, a multipart POST, counts."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from server.assets.models import Asset, Variant
from server.config import Settings, load_settings

MAX_UPLOAD_BYTES = 1024 * 1024
MAX_IMAGE_PIXELS = 10_000_000
STARTUP_DEADLINE_S = 30.0


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def server(
    app: Flask, database_url: str, logs: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`signage serve` on the test's instance folder and database, in its own process."""
    settings = app.config["SIGNAGE"]
    port = free_port()
    env = {
        **os.environ,
        "SIGNAGE_INSTANCE_PATH": str(settings.instance_path),
        "SIGNAGE_DATABASE_URL": database_url,
        "SIGNAGE_SECRET_KEY": "test-secret",
        "SIGNAGE_MAX_UPLOAD_BYTES": str(settings.max_upload_bytes),
        "SIGNAGE_MAX_IMAGE_PIXELS": str(settings.max_image_pixels),
        "SIGNAGE_HEARTBEAT_THREAD": "false",
    }
    command = [str(Path(sys.executable).with_name("signage")), "serve", "--port", str(port)]
    with logs.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE_S
        while True:  # waiting for another process to listen, not for time to pass
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, logs.read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
