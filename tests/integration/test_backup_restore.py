"""docs/operations.md's SQLite backup, done while the server runs, restored into a fresh
instance: the restored server serves the same manifest (same ETag, same bytes) to the same
device token, and the same media."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from server.accounts.models import Organisation
from tests.integration.conftest import StartServer
from tests.server.delivery.content import campaign, image_asset, publish

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TIMEOUT = 10
REPO = Path(__file__).resolve().parents[2]

# The online backup command of docs/operations.md, word for word (SQLite's backup API
# through Python's standard library: a consistent copy while the server writes).
BACKUP = (
    "import sqlite3, sys; src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[2]);"
    " src.backup(dst); dst.close(); src.close()"
)


def test_the_documented_backup_command_is_the_one_tested() -> None:
    assert BACKUP in (REPO / "docs" / "operations.md").read_text(encoding="utf-8")


def test_backup_while_serving_then_restore_serves_the_same_manifest(
    start_server: StartServer, tmp_path: Path
) -> None:
    live = start_server("live")
    live.set_clock(T0)
    admin = live.seed_admin()
    http = requests.Session()
    hello = {"hardware_id": "hw-backup", "player_version": "0.1.0", "width": 1920, "height": 1080}
    code = http.post(live.url("/api/v1/player/hello"), json=hello, timeout=TIMEOUT).json()
    claim = {"code": code["pairing_code"], "organisation_id": admin.organisation_id}
    r = http.post(
        live.url("/api/v1/pairings/claim"), json=claim, headers=admin.headers, timeout=TIMEOUT
    )
    assert r.status_code == 201, r.text
    token = http.post(live.url("/api/v1/player/hello"), json=hello, timeout=TIMEOUT).json()
    device = {"Authorization": f"Bearer {token['device_token']}"}
    with live.session() as session:
        org = session.scalar(select(Organisation))
        assert org is not None
        poster = image_asset(session, live.store(), org, "red", T0)
        row = campaign(
            session, org, "Week", T0, playlists={"week": [(poster, 10_000)]},
            entries=[{"playlist": "week"}],
        )  # fmt: skip
        publish(session, row, T0, live.settings())
    live.set_clock(T0 + timedelta(minutes=5))
    before = http.get(live.url("/api/v1/player/manifest"), headers=device, timeout=TIMEOUT)
    assert before.status_code == 200
    urls = [a["url"] for a in before.json()["assets"].values()]
    assert urls
    media_before = {u: http.get(live.url(u), timeout=TIMEOUT).content for u in urls}

    # The backup, while the server runs (and keeps answering polls).
    backup = tmp_path / "backup"
    backup.mkdir()
    subprocess.run(  # noqa: S603 - the documented command
        [sys.executable, "-c", BACKUP, str(live.instance / "signage.db"), str(backup / "signage.db")],  # noqa: E501
        check=True,
        timeout=60,
    )
    shutil.copytree(live.instance / "media", backup / "media")
    assert http.get(live.url("/api/v1/player/manifest"), headers=device, timeout=TIMEOUT).ok

    # Restore into a fresh instance folder and start a server on it.
    fresh = tmp_path / "restored"
    fresh.mkdir()
    shutil.copyfile(backup / "signage.db", fresh / "signage.db")
    shutil.copytree(backup / "media", fresh / "media")
    live.stop()
    restored = start_server("restored")
    restored.set_clock(T0 + timedelta(minutes=5))
    after = http.get(restored.url("/api/v1/player/manifest"), headers=device, timeout=TIMEOUT)
    assert after.status_code == 200
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.content == before.content
    again = http.get(
        restored.url("/api/v1/player/manifest"),
        headers={**device, "If-None-Match": before.headers["ETag"]},
        timeout=TIMEOUT,
    )
    assert again.status_code == 304
    for url, content in media_before.items():
        assert http.get(restored.url(url), timeout=TIMEOUT).content == content
