"""A real server killed in the middle of an upload: no row without bytes, nothing to collect."""

from __future__ import annotations

import os
import signal
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.assets.gc import live_hashes
from server.assets.models import Asset
from server.db import get_db
from server.media.store import LocalStore
from tests.conftest import T0
from tests.factories import World
from tests.server.assets.helpers import (
    STARTUP_DEADLINE_S,
    blobs,
    counts,
    multipart,
    server,
)
from tests.server.media.samples import encoded, noise

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def spooled_files(pid: int) -> int:
    """Open files of a process that are deleted temporaries (Werkzeug's upload spool)."""
    found = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        found += target.endswith("(deleted)")
    return found


def test_server_killed_mid_upload_leaves_no_row_without_bytes(
    app: Flask, database_url: str, world: World, session: Session, tmp_path: Path, media_root: Path
) -> None:
    image = encoded(noise(600, 400), "PNG")  # ~700 KiB: past Werkzeug's in-memory spool
    data, content_type = multipart({"file": (image, "slow.png")})
    before = counts(session), blobs(media_root)

    with server(app, database_url, tmp_path / "server.log") as (process, _url):
        port = int(_url.rsplit(":", 1)[1])
        assert spooled_files(process.pid) == 0
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            head = (
                f"POST /api/v1/assets HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Authorization: Bearer {world['operator'].token}\r\n"
                f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            conn.sendall(head.encode())
            sent = 0
            while sent < len(data) * 3 // 4:  # three quarters of the body, never its end
                chunk = data[sent : sent + 64 * 1024]
                conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
            deadline = time.monotonic() + STARTUP_DEADLINE_S
            while spooled_files(process.pid) == 0:  # the server is reading the body
                assert time.monotonic() < deadline, "the server never started on the body"
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)

    assert (counts(session), blobs(media_root)) == before, "a killed upload leaves nothing"

    with server(app, database_url, tmp_path / "server.log") as (_process, url):
        headers = {**world["operator"].headers, "Content-Type": content_type}
        first = requests.post(f"{url}/api/v1/assets", data=data, headers=headers, timeout=60)
        again = requests.post(f"{url}/api/v1/assets", data=data, headers=headers, timeout=60)
    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]

    store = LocalStore(media_root)
    with get_db(app).session() as check:
        shas = list(check.scalars(select(Asset.sha256)))
        live = live_hashes(check)
    assert shas == [first.json()["sha256"]] and all(store.exists(s) for s in shas)
    assert set(store.iter_hashes()) == live and len(live) == 2  # the image and its thumbnail
    for path in media_root.rglob("*"):
        if path.is_file():
            os.utime(path, (T0.timestamp(), T0.timestamp()))
    report = store.gc(live, dry_run=False, now=T0 + timedelta(days=2))
    assert report.unreferenced == () and report.stale_temps == () and report.kept_recent == ()
    assert set(store.iter_hashes()) == live
