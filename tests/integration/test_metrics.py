"""`/metrics` from a real two-worker gunicorn in prometheus-client's multi-process mode: after
a known load (polls answered 200, 304, 401 and 503, refused uploads, a job runner's pass),
the scrape, parsed by prometheus-client's own parser, adds up every process's counts."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import VENV_BIN, StartServer

pytestmark = pytest.mark.integration
SCREENS = 6
NOT_MODIFIED_EACH = 4
UNAUTHORISED = 5
SHED = 3
MANIFEST = "/api/v1/player/manifest"


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def pair(server, admin, n: int) -> str:  # type: ignore[no-untyped-def]
    hello = {"hardware_id": f"hw-{n}", "width": 1920, "height": 1080}
    r = requests.post(server.url("/api/v1/player/hello"), json=hello, timeout=10)
    code = r.json()["pairing_code"]
    r = requests.post(
        server.url("/api/v1/pairings/claim"),
        json={"code": code, "organisation_id": admin.organisation_id},
        headers=admin.headers,
        timeout=10,
    )
    assert r.status_code == 201, r.text
    r = requests.post(server.url("/api/v1/player/hello"), json=hello, timeout=10)
    return str(r.json()["device_token"])


def test_a_scrape_adds_up_every_worker(start_server: StartServer, tmp_path: Path) -> None:
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    (multiproc / "counter_0.db").write_bytes(b"left by a previous run")  # emptied at start
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    server = start_server(
        workers=2,
        threads=4,
        env=env,
        settings={"heartbeat_flush_s": 0.2},
        extra_args=("-c", "python:server.monitoring.gunicorn"),
    )
    admin = server.seed_admin()
    tokens = [pair(server, admin, n) for n in range(SCREENS)]
    with requests.Session() as http:
        for token in tokens:
            auth = {"Authorization": f"Bearer {token}"}
            first = http.get(server.url(MANIFEST), headers=auth, timeout=10)
            assert first.status_code == 200
            for _ in range(NOT_MODIFIED_EACH):
                again = {**auth, "If-None-Match": first.headers["ETag"]}
                assert http.get(server.url(MANIFEST), headers=again, timeout=10).status_code == 304
        for _ in range(UNAUTHORISED):
            bad = {"Authorization": "Bearer sgd_nobody"}
            assert http.get(server.url(MANIFEST), headers=bad, timeout=10).status_code == 401
        for _ in range(SHED):  # queued "since 1970" in front of the app: shed at once
            late = {"Authorization": f"Bearer {tokens[0]}", "X-Request-Start": "t=1.0"}
            assert http.get(server.url(MANIFEST), headers=late, timeout=10).status_code == 503
        for _ in range(2):
            r = http.post(
                server.url("/api/v1/assets"),
                files={"file": ("poster.png", b"GIF89a not a png at all", "image/png")},
                data={"organisation_id": str(admin.organisation_id)},
                headers=admin.headers,
                timeout=10,
            )
            assert r.status_code in (415, 422), r.text
            refused = "unsupported_type" if r.status_code == 415 else "rejected"

    # The job runner shares the folder, so its counts are in the same scrape.
    subprocess.run(
        [str(VENV_BIN / "signage"), "jobs", "once"],
        env={**server.env, **env},
        check=True,
        capture_output=True,
    )

    url = server.url("/metrics")
    deadline = time.monotonic() + 30
    while True:  # each worker's heartbeat thread writes last-seen within 0.2 s
        got = scrape(url)
        online = got.get(("signage_screens", (("organisation", "Province"), ("state", "online"))))
        if online == SCREENS or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert online == SCREENS
    polls = SCREENS * (1 + NOT_MODIFIED_EACH) + UNAUTHORISED + SHED
    assert got[("signage_polls_total", (("answer", "200"),))] == SCREENS
    assert got[("signage_polls_total", (("answer", "304"),))] == SCREENS * NOT_MODIFIED_EACH
    assert got[("signage_polls_total", (("answer", "401"),))] == UNAUTHORISED
    assert got[("signage_polls_total", (("answer", "503"),))] == SHED
    assert got[("signage_poll_seconds_count", ())] == polls
    assert got[("signage_poll_seconds_bucket", (("le", "+Inf"),))] == polls
    # One compile per worker that answered a 200 (each process has its own cache).
    compiles = got[("signage_manifest_compiles_total", ())]
    assert 1 <= compiles <= 2
    assert compiles + got[("signage_manifest_cache_hits_total", ())] == SCREENS
    assert got[("signage_heartbeat_flush_screens_sum", ())] >= SCREENS
    assert got[("signage_heartbeat_flushes_total", ())] >= 1
    assert got[("signage_upload_refusals_total", (("reason", refused),))] == 2
    assert got[("signage_job_runs_total", (("job", "prune-pairings"), ("outcome", "ok")))] == 1
    assert ("signage_job_last_run_timestamp_seconds",
            (("job", "alerts-evaluate"), ("outcome", "ok"))) in got
    assert not (multiproc / "counter_0.db").exists()

    # Through a proxy (a forwarding header), without the token: refused.
    proxied = requests.get(url, headers={"X-Forwarded-For": "203.0.113.7"}, timeout=10)
    assert proxied.status_code == 403
