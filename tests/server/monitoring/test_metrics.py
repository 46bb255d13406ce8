"""`/metrics` in one process: who may read it, and what a poll, a compile and a refused
upload count. (The multi-worker gunicorn test is in tests/integration/test_metrics.py.)"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from server.clock import SettableClock
from server.config import Settings
from server.monitoring.views import may_scrape
from tests.server.api import objects
from tests.server.delivery.content import device, pair


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_who_may_scrape(app: Flask) -> None:
    settings: Settings = app.config["SIGNAGE"]
    assert may_scrape(settings, None, "127.0.0.1", proxied=False)
    assert may_scrape(settings, None, "::1", proxied=False)
    assert not may_scrape(settings, None, "127.0.0.1", proxied=True)  # came through nginx
    assert not may_scrape(settings, None, "10.1.2.3", proxied=False)
    assert not may_scrape(settings, "anything", "10.1.2.3", proxied=False)  # no token set
    tokened = settings.model_copy(update={"metrics_token": "t0ken", "metrics_allow": ()})
    assert may_scrape(tokened, "t0ken", "10.1.2.3", proxied=True)
    assert not may_scrape(tokened, "wrong", "127.0.0.1", proxied=False)
    assert not may_scrape(tokened, None, "127.0.0.1", proxied=False)


def test_metrics_count_polls_compiles_refusals_and_screens(
    app: Flask, client: FlaskClient, session: Session, world, clock: SettableClock  # type: ignore[no-untyped-def]
) -> None:
    r = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 403 and r.mimetype == "application/problem+json"

    token, _ = pair(client, world["admin"].headers, world.school.id)
    first = client.get("/api/v1/player/manifest", headers=device(token))
    etag = first.headers["ETag"]
    for _ in range(3):
        assert client.get(
            "/api/v1/player/manifest", headers=device(token, **{"If-None-Match": etag})
        ).status_code == 304
    assert client.get("/api/v1/player/manifest",
                      headers=device("sgd_unknown")).status_code == 401
    objects.screen(session, world.city, "Dark one", clock.now(),
                   last_seen_at=clock.now() - timedelta(hours=1))
    app.extensions["signage.player"].heartbeats.flush()
    r = client.post("/api/v1/assets", data={"file": (b"not an image", "x.png")},
                    headers=world["admin"].headers, content_type="multipart/form-data")
    assert r.status_code in (415, 422)
    refused = "unsupported_type" if r.status_code == 415 else "rejected"

    r = client.get("/metrics")
    assert r.status_code == 200, r.get_data(as_text=True)
    got = samples(r.get_data(as_text=True))
    assert got[("signage_polls_total", (("answer", "200"),))] == 1
    assert got[("signage_polls_total", (("answer", "304"),))] == 3
    assert got[("signage_polls_total", (("answer", "401"),))] == 1
    assert got[("signage_poll_seconds_count", ())] == 5
    assert got[("signage_manifest_compiles_total", ())] == 1
    assert got[("signage_heartbeat_flushes_total", ())] == 1
    assert got[("signage_heartbeat_flush_screens_sum", ())] == 1
    assert got[("signage_upload_refusals_total", (("reason", refused),))] == 1
    assert got[("signage_screens", (("organisation", "School"), ("state", "online")))] == 1
    assert got[("signage_screens", (("organisation", "City"), ("state", "offline")))] == 1

    # Every series the Grafana dashboard asks for is one the server exposes.
    dashboard = (Path(__file__).parents[3] / "deploy" / "grafana-dashboard.json").read_text()
    wanted = set(re.findall(r"signage_[a-z_]+", dashboard)) - {"signage_scheduler"}
    families = [f.name for f in text_string_to_metric_families(r.get_data(as_text=True))]
    suffixes = ("", "_total", "_bucket", "_sum", "_count")
    exposed = {name for name, _ in got} | {f + x for f in families for x in suffixes}
    assert wanted and wanted <= exposed, wanted - exposed
