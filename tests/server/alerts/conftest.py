"""Alert tests: a webhook receiver, an SMTP server, and settings that point at them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from flask import Flask

from server.alerts.evaluate import Summary, evaluate
from server.alerts.outbox import Sent, deliver
from server.config import Settings
from server.db import get_db
from tests.server.alerts.receivers import (
    SmtpServer,
    WebhookReceiver,
    smtp_server,
    webhook_receiver,
)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture
def settings(app: Flask, smtp: SmtpServer) -> Settings:
    base: Settings = app.config["SIGNAGE"]
    return base.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_from": "signage@province.test",
            "alert_digest_s": 0,
        }
    )


@pytest.fixture
def mail(smtp: SmtpServer) -> SmtpServer:
    """The SMTP server, emptied first (it is shared by the session's tests)."""
    for path in (smtp.maildir / "new").iterdir():
        path.unlink()
    return smtp


def tick(app: Flask, now: datetime, settings: Settings) -> tuple[Summary, Sent]:
    """What the job runner does each tick: evaluate, commit, then deliver."""
    with get_db(app).session() as session:
        summary = evaluate(session, now, settings)
    return summary, deliver(get_db(app).engine, "test-runner", now, settings)
