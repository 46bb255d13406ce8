"""Alerts end to end in one process: rules ▸ incidents ▸ outbox ▸ a real webhook receiver and
a real SMTP server. Time is the test's clock; nothing sleeps."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.alerts.evaluate import evaluate
from server.alerts.models import AlertChannel, AlertKind, AlertRule, ChannelKind, Incident
from server.alerts.outbox import deliver
from server.alerts.transports import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify
from server.clock import SettableClock
from server.config import Settings
from server.db import get_db
from server.screens.models import Screen
from tests.server.alerts.conftest import tick
from tests.server.alerts.receivers import SmtpServer, WebhookReceiver
from tests.server.api import objects
from tests.server.delivery.content import device, pair

SECRET = "s3cret-for-signing-webhooks"


def rule(session: Session, org_id: int, kind: AlertKind, minutes: int, now) -> AlertRule:  # type: ignore[no-untyped-def]
    row = AlertRule(organisation_id=org_id, kind=kind, minutes=minutes, created_at=now)
    session.add(row)
    session.commit()
    return row


def channels(session: Session, world, webhook: WebhookReceiver, now) -> None:  # type: ignore[no-untyped-def]
    """A webhook (English) on the city, an e-mail address (Chinese) on the school."""
    session.add_all(
        [
            AlertChannel(
                organisation_id=world.city.id, name="ops hook", kind=ChannelKind.WEBHOOK,
                target=webhook.url, secret=SECRET, locale="en", created_at=now,
            ),
            AlertChannel(
                organisation_id=world.school.id, name="caretaker", kind=ChannelKind.EMAIL,
                target="caretaker@school.test", locale="zh-CN", created_at=now,
            ),
        ]
    )
    session.commit()


def test_offline_opens_once_resolves_once_signed_and_in_each_language(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
    settings: Settings,
    webhook: WebhookReceiver,
    mail: SmtpServer,
) -> None:
    t0 = clock.now()
    rule(session, world.province.id, AlertKind.OFFLINE, 10, t0)  # inherited by the school
    channels(session, world, webhook, t0)
    screen = objects.screen(session, world.school, "Bank hall 银行大厅", t0, last_seen_at=t0)

    tick(app, t0 + timedelta(minutes=5), settings)  # offline, but not for ten minutes yet
    assert webhook.calls == [] and mail.messages() == []

    for minutes in (11, 12, 13, 20):  # a tick a minute: still one message, not one per tick
        tick(app, t0 + timedelta(minutes=minutes), settings)
    assert len(webhook.calls) == 1
    opened = webhook.calls[0]
    assert verify(SECRET, opened.headers[SIGNATURE_HEADER], opened.body)
    assert not verify("another secret entirely", opened.headers[SIGNATURE_HEADER], opened.body)
    assert not verify(SECRET, opened.headers[SIGNATURE_HEADER], opened.body + b" ")
    body = opened.json
    assert opened.headers[IDEMPOTENCY_HEADER] == body["key"]
    assert body["event"] == "opened" and body["count"] == 1
    assert body["incidents"][0]["screen"] == "Bank hall 银行大厅"
    assert body["incidents"][0]["kind"] == "offline"
    assert "is offline" in body["subject"]
    [letter] = mail.messages()
    assert letter["To"] == "caretaker@school.test"
    assert "已离线" in letter["Subject"] and "Bank hall 银行大厅" in letter.get_content()

    screen.last_seen_at = t0 + timedelta(minutes=21)
    session.commit()
    for minutes in (21, 22):
        tick(app, t0 + timedelta(minutes=minutes), settings)
    assert [c.json["event"] for c in webhook.calls] == ["opened", "resolved"]
    resolved = webhook.calls[1]
    assert verify(SECRET, resolved.headers[SIGNATURE_HEADER], resolved.body)
    assert resolved.headers[IDEMPOTENCY_HEADER] != opened.headers[IDEMPOTENCY_HEADER]
    assert "back online" in resolved.json["subject"]
    letters = mail.messages()
    assert len(letters) == 2 and any("已恢复在线" in m["Subject"] for m in letters)

    clock.set(t0 + timedelta(minutes=22))
    r = client.get("/api/v1/alerts", headers=world["viewer"].headers)
    assert r.status_code == 200, r.json
    [item] = r.json["items"]
    assert item["screen"] == "Bank hall 银行大厅" and item["kind"] == "offline"
    assert item["resolved_at"] is not None
    r = client.get("/api/v1/alerts", headers=world["outsider"].headers)
    assert r.json["items"] == []


def test_a_power_cut_is_one_message_listing_its_forty_screens(
    app: Flask,
    session: Session,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
    settings: Settings,
    webhook: WebhookReceiver,
    mail: SmtpServer,
) -> None:
    settings = settings.model_copy(update={"alert_digest_s": 60})
    t0 = clock.now()
    rule(session, world.city.id, AlertKind.OFFLINE, 10, t0)
    channels(session, world, webhook, t0)
    # The power goes at t0; the screens' last polls are spread over a 30 s poll interval,
    # so they cross the ten minutes over two ticks.
    names = [f"Building A screen {n:02d}" for n in range(40)]
    for n, name in enumerate(names):
        objects.screen(
            session, world.school, name, t0, last_seen_at=t0 - timedelta(seconds=45 - n)
        )
    for seconds in range(9 * 60 + 50, 16 * 60, 30):  # the runner's ticks, every 30 s
        tick(app, t0 + timedelta(seconds=seconds), settings)
    assert len(webhook.calls) == 1, [c.json["count"] for c in webhook.calls]
    digest = webhook.calls[0].json
    assert digest["count"] == 40 and "40 screens" in digest["subject"]
    assert sorted(i["screen"] for i in digest["incidents"]) == names
    assert all(n in digest["text"] for n in names)
    [letter] = mail.messages()
    assert "40 块屏幕" in letter["Subject"]

    # Power back: one message again.
    back = t0 + timedelta(minutes=30)
    session.execute(Screen.__table__.update().values(last_seen_at=back))
    session.commit()
    for seconds in range(0, 150, 30):
        tick(app, back + timedelta(seconds=seconds), settings)
    assert [c.json["event"] for c in webhook.calls] == ["opened", "resolved"]
    assert webhook.calls[1].json["count"] == 40
    assert len(mail.messages()) == 2


def test_not_showing_what_it_should(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
    settings: Settings,
    webhook: WebhookReceiver,
    mail: SmtpServer,
) -> None:
    t0 = clock.now()
    rule(session, world.province.id, AlertKind.MISMATCH, 1, t0)
    channels(session, world, webhook, t0)
    stuck, stuck_id = pair(client, world["admin"].headers, world.school.id, hardware_id="hw-a")
    fine, _ = pair(client, world["admin"].headers, world.school.id, hardware_id="hw-b")
    runtime = app.extensions["signage.player"]

    def poll(token: str, manifest: str | None) -> str:
        status = json.dumps({"manifest": manifest, "asset": None})
        headers = device(token, **{"Signage-Status": status})
        r = client.get("/api/v1/player/manifest", headers=headers)
        assert r.status_code == 200
        runtime.heartbeats.flush()
        return r.headers["ETag"].strip('"')

    etag_stuck = poll(stuck, None)  # first poll: it holds nothing yet
    etag_fine = poll(fine, None)
    for seconds in (30, 60, 90, 120):  # a poll every 30 s, a tick after each
        clock.set(t0 + timedelta(seconds=seconds))
        poll(stuck, "0" * 32)  # reports an old manifest, poll after poll
        poll(fine, etag_fine)
        tick(app, clock.now(), settings)
    assert len(webhook.calls) == 1
    [incident] = webhook.calls[0].json["incidents"]
    assert incident["kind"] == "mismatch" and incident["screen_id"] == stuck_id
    assert etag_stuck in incident["detail"]
    assert "not showing what it should" in webhook.calls[0].json["subject"]
    assert "未按排期播放" in mail.messages()[0]["Subject"]

    clock.set(t0 + timedelta(seconds=150))
    poll(stuck, etag_stuck)
    tick(app, clock.now(), settings)
    assert [c.json["event"] for c in webhook.calls] == ["opened", "resolved"]


def test_a_transient_mismatch_opens_nothing(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
    settings: Settings,
    webhook: WebhookReceiver,
) -> None:
    t0 = clock.now()
    rule(session, world.province.id, AlertKind.MISMATCH, 1, t0)
    channels(session, world, webhook, t0)
    token, _ = pair(client, world["admin"].headers, world.school.id)
    runtime = app.extensions["signage.player"]
    r = client.get("/api/v1/player/manifest", headers=device(token))
    etag = r.headers["ETag"].strip('"')
    # One poll behind (as right after a publish), then caught up: no incident.
    for seconds, held in ((30, "0" * 32), (60, etag), (90, etag), (150, etag)):
        clock.set(t0 + timedelta(seconds=seconds))
        status = json.dumps({"manifest": held, "asset": None})
        client.get("/api/v1/player/manifest", headers=device(token, **{"Signage-Status": status}))
        runtime.heartbeats.flush()
        tick(app, clock.now(), settings)
    assert webhook.calls == []
    assert session.scalars(select(Incident)).all() == []


def test_errors_and_storage_rules_each_open_their_incident(
    app: Flask,
    session: Session,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
    settings: Settings,
    webhook: WebhookReceiver,
) -> None:
    t0 = clock.now()
    rule(session, world.province.id, AlertKind.ERRORS, 0, t0)
    storage = rule(session, world.province.id, AlertKind.STORAGE, 0, t0)
    storage.min_free_bytes = 10**9
    # The school switches the province's error rule off for itself.
    quiet = rule(session, world.school.id, AlertKind.ERRORS, 0, t0)
    quiet.enabled = False
    session.commit()
    channels(session, world, webhook, t0)
    status = {"errors": ["asset 3fa… undecodable"], "disk_free_bytes": 5 * 10**8,
              "cache_shortage_bytes": 0}
    city = objects.screen(session, world.city, "City hall", t0, last_seen_at=t0)
    school = objects.screen(session, world.school, "Gym", t0, last_seen_at=t0)
    for screen in (city, school):
        screen.status = status
    session.commit()
    tick(app, t0, settings)
    kinds = sorted((i["screen"], i["kind"]) for c in webhook.calls for i in c.json["incidents"])
    assert kinds == [("City hall", "errors"), ("City hall", "storage"), ("Gym", "storage")]


def test_a_refused_webhook_is_retried_with_backoff_and_the_same_key(
    app: Flask,
    session: Session,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
    settings: Settings,
    webhook: WebhookReceiver,
) -> None:
    t0 = clock.now()
    rule(session, world.province.id, AlertKind.OFFLINE, 10, t0)
    session.add(
        AlertChannel(organisation_id=world.province.id, name="hook", kind=ChannelKind.WEBHOOK,
                     target=webhook.url, secret=SECRET, created_at=t0)
    )
    session.commit()
    objects.screen(session, world.school, "Lobby", t0, last_seen_at=t0)
    webhook.answers = [503, 500]
    at = t0 + timedelta(minutes=11)
    tick(app, at, settings)  # first attempt: 503
    tick(app, at + timedelta(seconds=20), settings)  # before the 30 s backoff: nothing
    tick(app, at + timedelta(seconds=31), settings)  # second attempt: 500
    tick(app, at + timedelta(seconds=60), settings)  # before the next 60 s: nothing
    tick(app, at + timedelta(seconds=92), settings)  # third attempt: accepted
    tick(app, at + timedelta(seconds=600), settings)  # nothing more to send
    assert [c.headers["X-Test-Answer"] for c in webhook.calls] == ["503", "500", "200"]
    assert len({c.headers[IDEMPOTENCY_HEADER] for c in webhook.calls}) == 1


def test_two_senders_racing_deliver_each_message_once(
    app: Flask,
    session: Session,
    world,  # type: ignore[no-untyped-def]
    clock: SettableClock,
    settings: Settings,
    webhook: WebhookReceiver,
) -> None:
    t0 = clock.now()
    rule(session, world.province.id, AlertKind.OFFLINE, 10, t0)
    session.add(
        AlertChannel(organisation_id=world.province.id, name="hook", kind=ChannelKind.WEBHOOK,
                     target=webhook.url, secret=SECRET, created_at=t0)
    )
    session.commit()
    engine = get_db(app).engine
    for round_ in range(5):
        start = t0 + timedelta(hours=round_)
        objects.screen(session, world.school, f"Screen {round_}", start, last_seen_at=start)
        at = start + timedelta(minutes=11)
        with get_db(app).session() as s:
            evaluate(s, at, settings)
        barrier = threading.Barrier(2)

        def race(name: str, barrier: threading.Barrier = barrier, at: datetime = at) -> None:
            barrier.wait()
            deliver(engine, name, at, settings)

        threads = [threading.Thread(target=race, args=(f"runner-{n}",)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(webhook.calls) == round_ + 1
    keys = [c.headers[IDEMPOTENCY_HEADER] for c in webhook.calls]
    assert len(set(keys)) == 5
