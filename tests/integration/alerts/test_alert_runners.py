"""Two real job runners (`signage jobs once`, as cron would start them on two nodes) racing
over the same database: each incident's messages reach the webhook exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.accounts.organisations import create_organisation
from server.alerts.models import AlertChannel, AlertKind, AlertRule, ChannelKind
from server.alerts.transports import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify
from server.clock import write_clock_file
from server.config import env_name, load_settings
from server.db import Database, make_engine
from server.migrations import upgrade
from server.screens.models import Screen
from tests.server.alerts.receivers import WebhookReceiver, webhook_receiver

pytestmark = pytest.mark.integration
SIGNAGE = Path(sys.executable).parent / "signage"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SECRET = "racing-runners-secret"


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'signage.db'}"
    return str(request.getfixturevalue("fresh_pg_database")())


def test_two_runners_racing_send_each_incident_once(
    tmp_path: Path, database_url: str, webhook: WebhookReceiver
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGE_")}
    env.update({
        env_name("instance_path"): str(tmp_path),
        env_name("database_url"): database_url,
        env_name("clock_file"): str(tmp_path / "clock"),
        env_name("alert_digest_s"): "0",
        env_name("log_level"): "WARNING",
    })
    settings = load_settings(environ=env)
    database = Database(make_engine(settings))
    upgrade(database.engine)
    with database.session() as session:
        org = create_organisation(session, "Station", None, T0)
        session.flush()
        session.add(AlertRule(organisation_id=org.id, kind=AlertKind.OFFLINE, minutes=10,
                              created_at=T0))
        session.add(AlertChannel(organisation_id=org.id, name="hook", kind=ChannelKind.WEBHOOK,
                                 target=webhook.url, secret=SECRET, created_at=T0))
        for n in range(3):
            session.add(Screen(organisation_id=org.id, name=f"Platform {n}", status={},
                               tags=[], last_seen_at=T0, created_at=T0))

    def race(at: datetime) -> list[int]:
        write_clock_file(tmp_path / "clock", at)
        runners = [
            subprocess.Popen([str(SIGNAGE), "jobs", "once"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        codes = []
        for runner in runners:
            out, err = runner.communicate(timeout=120)
            # One runs the tick; the other finds the lease held (exit 1) or the tick done.
            assert runner.returncode == 0 or b"holds the lease" in err, (out, err)
            codes.append(runner.returncode)
        return codes

    for minutes in (11, 12):  # the incident opens at the first; the second sends nothing
        race(T0 + timedelta(minutes=minutes))
    with database.session() as session:
        session.execute(Screen.__table__.update().values(last_seen_at=T0 + timedelta(minutes=14)))
    for minutes in (14,):
        race(T0 + timedelta(minutes=minutes))
    database.engine.dispose()

    events = [c.json["event"] for c in webhook.calls]
    assert events == ["opened", "resolved"], events
    assert [c.json["count"] for c in webhook.calls] == [3, 3]
    keys = [c.headers[IDEMPOTENCY_HEADER] for c in webhook.calls]
    assert len(set(keys)) == 2
    assert all(verify(SECRET, c.headers[SIGNATURE_HEADER], c.body) for c in webhook.calls)
