"""The server's media disk fills up (a real, small tmpfs as its media store): an upload gets
507 with a problem that says so and leaves nothing behind, while polls and media reads
go on; once space is freed, uploads work again."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import StartServer
from tests.integration.player.conftest import ContentFor
from tests.integration.player.content import noise_png, png
from tests.reliability.faults import blobs, half_written
from tests.reliability.mounts import fill, small_tmpfs

pytestmark = pytest.mark.integration


def test_a_full_media_disk_refuses_uploads_and_keeps_serving(
    start_server: StartServer, content_for: ContentFor, tmp_path: Path
) -> None:
    with small_tmpfs(tmp_path / "media", "4m") as media:
        server = start_server(
            settings={"media_path": media, "screen_profiles": "320x180", "publish_margin_s": 0}
        )
        content = content_for(server)
        asset = content.image(png((200, 30, 30)), "red.png")
        content.publish(content.campaign("Full", {"main": [(asset, 5000)]}, [{"playlist": "main"}]))
        hello = requests.post(
            server.url("/api/v1/player/hello"),
            json={
                "hardware_id": "full-1",
                "width": 320,
                "height": 180,
                "enrol_token": content.enrolment_token(),
            },
            timeout=10,
        )
        assert hello.status_code == 201, hello.text
        device = {"Authorization": f"Bearer {hello.json()['device_token']}"}
        first = requests.get(server.url("/api/v1/player/manifest"), headers=device, timeout=10)
        assert first.status_code == 200, first.text
        urls = {sha: a["url"] for sha, a in first.json()["assets"].items()}
        assert urls

        filler = fill(media)
        before_blobs = blobs(server)
        upload = requests.post(
            server.url("/api/v1/assets"),
            files={"file": ("noise.png", noise_png(1, (300, 200)), "image/png")},
            headers=content.headers,
            timeout=30,
        )
        assert upload.status_code == 507, upload.text
        assert upload.headers["Content-Type"].startswith("application/problem+json")
        assert "storage is full" in upload.json()["detail"]
        assert blobs(server) == before_blobs and half_written(server) == []
        with server.session() as session:
            from sqlalchemy import func, select

            from server.assets.models import Asset

            assert session.scalar(select(func.count()).select_from(Asset)) == 1

        # Polls and media reads go on, from the full disk.
        etag = first.headers["ETag"]
        again = requests.get(
            server.url("/api/v1/player/manifest"),
            headers={**device, "If-None-Match": etag},
            timeout=10,
        )
        assert again.status_code == 304, again.text
        full = requests.get(server.url("/api/v1/player/manifest"), headers=device, timeout=10)
        assert full.status_code == 200 and full.json()["assets"].keys() == urls.keys()
        for sha, url in urls.items():
            got = requests.get(server.url(url), headers=device, timeout=10)
            assert got.status_code == 200, (url, got.text)
            assert hashlib.sha256(got.content).hexdigest() == sha

        filler.unlink()
        upload = requests.post(
            server.url("/api/v1/assets"),
            files={"file": ("noise.png", noise_png(1, (300, 200)), "image/png")},
            headers=content.headers,
            timeout=30,
        )
        assert upload.status_code == 201, upload.text
        server.stop()
