"""The default install takes bursts: under the README's production gunicorn line (4 workers
× 8 threads) on SQLite, 16 players enrolling 400 screens at once — each fetching its first
manifest, as a player does — and 8 uploads at the same time all succeed: no 503.

Write transactions wait their turn for SQLite's one write lock (BEGIN IMMEDIATE and a busy
timeout) instead of failing on a snapshot that another connection's commit made stale.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from server.assets.models import Asset
from server.screens.models import Screen
from tests.integration.conftest import StartServer
from tests.server.assets.helpers import multipart
from tests.server.media.samples import encoded, noise

pytestmark = pytest.mark.integration
CLIENTS, SCREENS, UPLOADS = 16, 400, 8
TIMEOUT = 60


def test_enrolment_and_upload_bursts_wait_instead_of_failing(start_server: StartServer) -> None:
    server = start_server(workers=4, threads=8)
    admin = server.seed_admin()
    api = server.url("/api/v1")
    r = requests.post(
        f"{api}/organisations/{admin.organisation_id}/enrolment-tokens",
        json={
            "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            "max_uses": SCREENS,
            "timezone": "Asia/Shanghai",
            "name": "burst",
        },
        headers=admin.headers,
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    enrol_token = r.json()["token"]
    forms = [
        multipart({"file": (encoded(noise(400 + 10 * i, 300), "PNG"), f"poster-{i}.png")})
        for i in range(UPLOADS)
    ]
    statuses: Counter[str] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS + UPLOADS)

    def note(what: str, response: requests.Response, expected: int) -> None:
        with lock:
            statuses[f"{what} {response.status_code}"] += 1
            if response.status_code != expected and len(failures) < 5:
                failures.append(f"{what} {response.status_code}: {response.text[:200]}")

    def player_client(n: int) -> None:
        http = requests.Session()
        start.wait()
        for i in range(n, SCREENS, CLIENTS):
            hello = {
                "hardware_id": f"burst-{i:04d}",
                "width": 1920,
                "height": 1080,
                "enrol_token": enrol_token,
            }
            r = http.post(f"{api}/player/hello", json=hello, timeout=TIMEOUT)
            note("hello", r, 201)
            if r.status_code == 201:
                device = {"Authorization": f"Bearer {r.json()['device_token']}"}
                note(
                    "manifest",
                    http.get(f"{api}/player/manifest", headers=device, timeout=TIMEOUT),
                    200,
                )

    def uploader(n: int) -> None:
        body, content_type = forms[n]
        start.wait()
        r = requests.post(
            f"{api}/assets",
            data=body,
            headers={**admin.headers, "Content-Type": content_type},
            timeout=TIMEOUT,
        )
        note("upload", r, 201)

    with ThreadPoolExecutor(CLIENTS + UPLOADS) as pool:
        jobs = [pool.submit(player_client, n) for n in range(CLIENTS)]
        jobs += [pool.submit(uploader, n) for n in range(UPLOADS)]
        for job in jobs:
            job.result()

    assert failures == [], (dict(statuses), failures)
    assert statuses == {"hello 201": SCREENS, "manifest 200": SCREENS, "upload 201": UPLOADS}
    with server.session() as session:
        assert session.scalar(select(func.count()).select_from(Screen)) == SCREENS
        assert session.scalar(select(func.count()).select_from(Asset)) == UPLOADS
