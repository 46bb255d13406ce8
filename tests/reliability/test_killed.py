"""Killed at the worst moment: a fault point (server.faults, SIGNAGE_FAULTS) makes the real
server SIGKILL itself after the bytes are written and before the rows naming them commit,
for an upload, an API publish and a campaign file published from the command line, and
after a process took its buffered heartbeats and before it wrote them.

After a restart: nothing referenced is missing, nothing is half-written, and `signage media
gc` keeps the orphaned bytes within its grace period and removes them after it (the time
moved with the server's FileClock).
"""

from __future__ import annotations

import signal
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from tests.integration.conftest import VENV_BIN, StartServer
from tests.integration.player.conftest import ContentFor
from tests.integration.player.content import png
from tests.integration.player.players import wait_for
from tests.reliability.faults import (
    FAULTS_ENV,
    blobs,
    half_written,
    media_gc,
    referenced,
    restart_disarmed,
)

pytestmark = pytest.mark.integration
KILLED = -signal.SIGKILL
GRACE_PASSED = timedelta(hours=2)  # the store keeps unreferenced bytes for 1 h


def counts() -> object:
    from server.assets.models import Asset, Variant
    from server.campaigns.models import Campaign, Publication

    return {
        m.__name__: select(func.count()).select_from(m)
        for m in (Asset, Variant, Campaign, Publication)
    }


def row_counts(server) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with server.session() as session:
        return {name: int(session.scalar(q) or 0) for name, q in counts().items()}  # type: ignore[attr-defined]


def test_upload_killed_between_its_bytes_and_its_rows(start_server: StartServer) -> None:
    server = start_server(kind="serve", settings={"faults": "after-store-put"})
    admin = server.seed_admin()
    before = row_counts(server)

    with pytest.raises(requests.ConnectionError):
        requests.post(
            server.url("/api/v1/assets"),
            files={"file": ("red.png", png((200, 30, 30)), "image/png")},
            headers=admin.headers,
            timeout=30,
        )
    assert server.process is not None and server.process.wait(15) == KILLED

    orphans = blobs(server)
    assert len(orphans) == 2, orphans  # the normalised image and its thumbnail: written
    assert row_counts(server) == before  # ... and no row names them
    assert half_written(server) == []

    restart_disarmed(server)
    assert referenced(server) <= blobs(server)
    assert "deleted" not in media_gc(server, later=timedelta(0)), "within the grace period"
    assert blobs(server) == orphans
    out = media_gc(server, later=GRACE_PASSED)
    assert blobs(server) == set(), out
    assert sorted(
        line.split()[-1] for line in out.splitlines() if line.startswith("deleted")
    ) == sorted(orphans)

    again = requests.post(
        server.url("/api/v1/assets"),
        files={"file": ("red.png", png((200, 30, 30)), "image/png")},
        headers=admin.headers,
        timeout=30,
    )
    assert again.status_code == 201, again.text
    assert referenced(server) == blobs(server) == orphans


def test_publish_killed_before_its_commit(
    start_server: StartServer, content_for: ContentFor
) -> None:
    server = start_server(kind="serve", settings={"faults": "before-publish-commit"})
    content = content_for(server)
    asset = content.image(png((30, 160, 40)), "green.png")
    campaign = content.campaign("Killed", {"main": [(asset, 5000)]}, [{"playlist": "main"}])
    before, stored = row_counts(server), blobs(server)

    with pytest.raises(requests.ConnectionError):
        requests.post(
            server.url(f"/api/v1/campaigns/{campaign}/publish"), headers=content.headers, timeout=30
        )
    assert server.process is not None and server.process.wait(15) == KILLED

    restart_disarmed(server)
    assert row_counts(server) == before  # no publication, no half of one
    r = requests.get(
        server.url(f"/api/v1/campaigns/{campaign}"), headers=content.headers, timeout=10
    )
    assert r.status_code == 200 and r.json()["status"] == "draft", r.text
    assert referenced(server) <= blobs(server) == stored and half_written(server) == []

    r = requests.post(
        server.url(f"/api/v1/campaigns/{campaign}/publish"), headers=content.headers, timeout=30
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "published"
    assert row_counts(server)["Publication"] == before["Publication"] + 1  # type: ignore[index]


CAMPAIGN_FILE = """\
campaign: Killed while publishing
organisation: Province
timezone: Asia/Shanghai
dates: 2026-01-01 .. 2026-12-31
targets: all
playlists:
  main:
    - poster: poster.png
      duration: 10s
    - slogan: Killed at the worst moment
      duration: 10s
schedule:
  - play: main
"""


def test_campaign_file_published_from_the_command_line_killed_before_its_commit(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server(settings={"screen_profiles": "320x180"})
    server.seed_admin()
    folder = tmp_path / "campaign"
    folder.mkdir()
    (folder / "poster.png").write_bytes(png((30, 60, 200)))
    (folder / "killed.yaml").write_text(CAMPAIGN_FILE, encoding="utf-8")
    before, stored = row_counts(server), blobs(server)

    def apply(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(VENV_BIN / "signage"),
                "campaign",
                "apply",
                str(folder / "killed.yaml"),
                "--publish",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    killed = apply({**server.env, FAULTS_ENV: "before-publish-commit"})
    assert killed.returncode == KILLED, killed.stdout + killed.stderr
    orphans = blobs(server) - stored
    assert orphans, "the poster and the slogan's rendering were stored before the kill"
    assert row_counts(server) == before
    assert referenced(server) <= blobs(server) and half_written(server) == []

    media_gc(server, later=GRACE_PASSED)
    assert blobs(server) == stored  # the orphans went, nothing else did

    done = apply(server.env)
    assert done.returncode == 0, done.stderr
    assert "published as content version" in done.stdout
    assert referenced(server) <= blobs(server)


def test_heartbeat_flush_killed_after_collecting(
    start_server: StartServer, content_for: ContentFor
) -> None:
    from server.screens.models import Screen

    server = start_server(
        kind="serve", settings={"faults": "before-heartbeat-flush", "heartbeat_flush_s": 0.2}
    )
    content = content_for(server)
    token = content.enrolment_token()
    hello = requests.post(
        server.url("/api/v1/player/hello"),
        json={"hardware_id": "hb-1", "width": 320, "height": 180, "enrol_token": token},
        timeout=10,
    )
    assert hello.status_code == 201, hello.text
    device = {"Authorization": f"Bearer {hello.json()['device_token']}"}
    screen_id = hello.json()["screen_id"]

    status = '{"playlist": "killed-flush"}'  # a field of the Signage-Status schema
    poll = requests.get(
        server.url("/api/v1/player/manifest"),
        headers={**device, "Signage-Status": status},
        timeout=10,
    )
    assert poll.status_code == 200, poll.text
    assert server.process is not None
    assert server.process.wait(15) == KILLED  # the flush thread took the beat and died

    with server.session() as session:
        row = session.get(Screen, screen_id)
        assert row is not None
        assert row.last_seen_at is None and row.status == {}  # the lost flush wrote nothing

    restart_disarmed(server)
    poll = requests.get(
        server.url("/api/v1/player/manifest"),
        headers={**device, "Signage-Status": status},
        timeout=10,
    )
    assert poll.status_code == 200, poll.text

    def flushed() -> bool:
        with server.session() as session:
            row = session.get(Screen, screen_id)
            return row is not None and row.last_seen_at is not None

    wait_for(flushed, "the restarted server to write the next heartbeat", 30)
    with server.session() as session:
        row = session.get(Screen, screen_id)
        assert row is not None and row.status == {"playlist": "killed-flush"}
