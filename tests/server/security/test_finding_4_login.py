"""Issue 12, finding 4: logins are throttled per account and per address, shared through the
database, audited when they fail, and as costly for an unknown email as for a known one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.app import create_app
from server.auth import actors
from server.auth.models import AuditEvent
from server.clock import SettableClock
from server.config import load_settings
from server.db import get_db
from tests.conftest import T0
from tests.factories import PASSWORD

SESSION = "/api/v1/session"


def _try(app: Flask, email: str, password: str, address: str = "198.51.100.7") -> Any:
    return app.test_client().post(
        SESSION,
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def test_finding_4_wrong_passwords_for_one_account_are_throttled_with_backoff(
    app: Flask, world: Any, clock: SettableClock
) -> None:
    answers = [_try(app, "viewer@province.test", f"wrong {i}").status_code for i in range(10)]
    assert answers[:5] == [401] * 5
    assert set(answers[5:]) == {429}
    blocked = _try(app, "viewer@province.test", PASSWORD)  # the right password waits too
    assert blocked.status_code == 429
    assert blocked.mimetype == "application/problem+json"
    wait = int(blocked.headers["Retry-After"])
    assert wait >= 1
    # Another address does not unblock the account.
    assert _try(app, "viewer@province.test", PASSWORD, "203.0.113.5").status_code == 429
    clock.set(clock.now() + timedelta(seconds=wait))
    assert _try(app, "viewer@province.test", "wrong again").status_code == 401
    # Each failure past the free ones doubles the wait.
    again = _try(app, "viewer@province.test", PASSWORD)
    assert again.status_code == 429 and int(again.headers["Retry-After"]) == 2 * wait
    clock.set(clock.now() + timedelta(seconds=2 * wait))
    assert _try(app, "viewer@province.test", PASSWORD).status_code == 201


def test_finding_4_one_address_trying_many_accounts_is_throttled(app: Flask, world: Any) -> None:
    answers = [_try(app, f"nobody{i}@example.org", "guess").status_code for i in range(25)]
    assert answers[:20] == [401] * 20
    assert set(answers[20:]) == {429}
    # Another address may still log in.
    assert _try(app, "viewer@province.test", PASSWORD, "203.0.113.5").status_code == 201


def test_finding_4_failed_logins_are_audited(app: Flask, world: Any, session: Session) -> None:
    assert _try(app, "viewer@province.test", "wrong").status_code == 401
    assert _try(app, "ghost@example.org", "wrong").status_code == 401
    session.rollback()
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "login_failed").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor, e.summary["after"]["reason"]) for e in events] == [
        ("viewer@province.test", "wrong password"),
        ("ghost@example.org", "unknown email"),
    ]
    assert events[0].organisation_id == world.province.id
    assert events[0].summary["after"]["address"] == "198.51.100.7"


def test_finding_4_an_unknown_email_costs_a_password_check_too(
    app: Flask, world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = actors.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash.split("$", 1)[0])
        return real(pwhash, password)

    monkeypatch.setattr(actors, "check_password_hash", counting)
    assert _try(app, "viewer@province.test", "wrong").status_code == 401
    assert _try(app, "ghost@example.org", "wrong").status_code == 401
    assert len(checked) == 2 and checked[0] == checked[1]  # the same method, the same cost


def test_finding_4_the_throttle_is_shared_by_every_node(
    app: Flask, world: Any, database_url: str, tmp_path: Path
) -> None:
    settings = load_settings(
        {"instance_path": tmp_path / "node2", "database_url": database_url, "secret_key": "s"},
        environ={},
    )
    node2 = create_app(settings, clock_=SettableClock(T0))
    node2.config["TESTING"] = True
    try:
        for i in range(5):
            node = app if i % 2 else node2
            assert _try(node, "viewer@province.test", f"wrong {i}").status_code == 401
        assert _try(app, "viewer@province.test", PASSWORD).status_code == 429
        assert _try(node2, "viewer@province.test", PASSWORD).status_code == 429
    finally:
        get_db(node2).engine.dispose()
