"""The publishing workflow through the API: roles, self-approval, audit, what goes live."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.models import AuditEvent
from server.campaigns.models import Publication
from server.campaigns.publications import PublishedContent, load_published
from server.clock import SettableClock
from tests.server.api import objects

API = "/api/v1"


def published(session: Session, now: datetime) -> PublishedContent:
    session.rollback()  # read what the app committed since
    return load_published(session, now)


def make_campaign(
    client: FlaskClient, session: Session, world: Any, *, layer: str = "normal"
) -> int:
    asset = objects.asset(session, world.city, "poster", world.city.created_at)
    playlist = objects.playlist(session, world.city, "week", world.city.created_at, assets=[asset])
    h = world["operator"].headers
    r = client.post(
        f"{API}/campaigns",
        json={
            "name": "Week",
            "organisation_id": world.city.id,
            "timezone": "Asia/Shanghai",
            "start_date": "2026-01-05",
            "end_date": "2026-01-11",
        },
        headers=h,
    )
    assert r.status_code == 201, r.json
    campaign_id = int(r.json["id"])
    r = client.post(
        f"{API}/campaigns/{campaign_id}/entries",
        json={"playlist_id": playlist.id, "layer": layer, "priority": 5},
        headers=h,
    )
    assert r.status_code == 201, r.json
    return campaign_id


def step(client: FlaskClient, campaign_id: int, what: str, who: Any, **query: str) -> Any:
    return client.post(
        f"{API}/campaigns/{campaign_id}/{what}", headers=who.headers, query_string=query
    )


def actions(session: Session, campaign_id: int) -> list[tuple[str, str]]:
    session.rollback()
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "campaign", AuditEvent.object_id == str(campaign_id))
        .order_by(AuditEvent.id)
    )
    return [(e.action, e.actor) for e in rows]


def test_draft_submit_approve_publish(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    campaign_id = make_campaign(client, session, world)
    assert published(session, clock.now()).rules == ()
    assert step(client, campaign_id, "submit", world["viewer"]).status_code == 403
    assert step(client, campaign_id, "approve", world["approver"]).status_code == 409  # a draft
    r = step(client, campaign_id, "submit", world["operator"])
    assert r.status_code == 200 and r.json["status"] == "submitted"
    assert step(client, campaign_id, "approve", world["operator"]).status_code == 403
    assert step(client, campaign_id, "publish", world["approver"]).status_code == 409
    r = step(client, campaign_id, "approve", world["approver"])
    assert r.status_code == 200 and r.json["status"] == "approved"
    assert r.json["approved_by_id"] == world["approver"].user.id
    assert published(session, clock.now()).rules == ()  # approved is not published
    r = step(client, campaign_id, "publish", world["approver"])
    assert r.status_code == 200, r.json
    assert r.json["status"] == "published" and r.json["live"] is True
    content = published(session, clock.now())
    assert len(content.rules) == 1
    rule = content.rules[0]
    # Effective one poll interval plus the margin (30 s + 30 s by default) after the publish.
    assert rule.live_from == clock.now() + timedelta(seconds=60)
    assert rule.live_until is None and rule.priority == 5 and rule.owner_org == world.city.id
    (item,) = content.playlists[rule.playlist].items
    assert item.kind == "image" and item.duration_ms == 10_000
    assert actions(session, campaign_id) == [
        ("create", "operator@province.test"),
        ("update", "operator@province.test"),
        ("submit", "operator@province.test"),
        ("approve", "approver@province.test"),
        ("publish", "approver@province.test"),
    ]


def test_nobody_approves_their_own_submission(
    client: FlaskClient, session: Session, world: Any
) -> None:
    campaign_id = make_campaign(client, session, world)
    assert step(client, campaign_id, "submit", world["approver"]).status_code == 200
    r = step(client, campaign_id, "approve", world["approver"])
    assert r.status_code == 403 and "own submission" in r.json["detail"]
    assert step(client, campaign_id, "approve", world["admin"]).status_code == 200
    assert ("approve", "approver@province.test") not in actions(session, campaign_id)


def test_outsiders_see_nothing_and_operators_cannot_publish(
    client: FlaskClient, session: Session, world: Any
) -> None:
    campaign_id = make_campaign(client, session, world)
    assert (
        client.get(f"{API}/campaigns/{campaign_id}", headers=world["outsider"].headers).status_code
        == 404
    )
    assert step(client, campaign_id, "publish", world["outsider"]).status_code == 404
    assert step(client, campaign_id, "publish", world["operator"]).status_code == 403
    # An approver may publish a draft straight away: their publish approves it.
    r = step(client, campaign_id, "publish", world["approver"])
    assert r.status_code == 200 and r.json["approved_by_id"] == world["approver"].user.id


def test_republish_keeps_the_old_snapshot_live_until_the_new_one_takes_effect(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    campaign_id = make_campaign(client, session, world)
    assert step(client, campaign_id, "publish", world["approver"]).status_code == 200
    first_effective = clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(hours=1))
    r = client.patch(
        f"{API}/campaigns/{campaign_id}",
        json={"description": "edited"},
        headers=world["operator"].headers,
    )
    assert r.status_code == 200 and r.json["status"] == "draft" and r.json["live"] is True
    rules = published(session, clock.now()).rules
    assert len(rules) == 1 and rules[0].live_until is None  # the edit is not on screens
    assert step(client, campaign_id, "publish", world["approver"]).status_code == 200
    second_effective = clock.now() + timedelta(seconds=60)
    rules = sorted(published(session, clock.now()).rules, key=lambda r: r.id)
    assert [(r.live_from, r.live_until) for r in rules] == [
        (first_effective, second_effective),
        (second_effective, None),
    ]
    assert session.scalar(select(Publication.action).order_by(Publication.id.desc())) == "publish"


def test_archive_takes_it_off_screens_at_the_effective_instant(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    campaign_id = make_campaign(client, session, world)
    assert step(client, campaign_id, "publish", world["approver"]).status_code == 200
    r = client.delete(f"{API}/campaigns/{campaign_id}", headers=world["operator"].headers)
    assert r.status_code == 409  # published: archive first
    clock.advance(timedelta(minutes=5))
    r = step(client, campaign_id, "archive", world["approver"])
    assert r.status_code == 200 and r.json["status"] == "archived" and r.json["live"] is False
    rules = published(session, clock.now()).rules
    assert [r.live_until for r in rules] == [clock.now() + timedelta(seconds=60)]
    clock.advance(timedelta(days=3))
    assert published(session, clock.now()).rules == ()
    assert actions(session, campaign_id)[-1] == ("archive", "approver@province.test")
    assert (
        client.delete(
            f"{API}/campaigns/{campaign_id}", headers=world["operator"].headers
        ).status_code
        == 204
    )


def test_immediate_publish_is_for_takeovers_only(
    client: FlaskClient, session: Session, world: Any, clock: SettableClock
) -> None:
    normal = make_campaign(client, session, world)
    r = step(client, normal, "publish", world["approver"], immediate="true")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "immediate"
    r = client.post(
        f"{API}/campaigns",
        json={
            "name": "Drill",
            "organisation_id": world.city.id,
            "timezone": "Asia/Shanghai",
            "start_date": "2026-01-05",
            "end_date": "2026-01-05",
        },
        headers=world["operator"].headers,
    )
    drill = int(r.json["id"])
    playlist_id = client.get(f"{API}/campaigns/{normal}", headers=world["viewer"].headers).json[
        "entries"
    ][0]["playlist_id"]
    r = client.post(
        f"{API}/campaigns/{drill}/entries",
        json={
            "playlist_id": playlist_id,
            "layer": "takeover",
            "interval_start": "2026-01-05T17:00:00+08:00",
            "interval_end": "2026-01-05T17:30:00+08:00",
        },
        headers=world["operator"].headers,
    )
    assert r.status_code == 201, r.json
    r = step(client, drill, "publish", world["approver"], immediate="true")
    assert r.status_code == 200, r.json
    assert r.json["effective_at"].startswith(clock.now().isoformat()[:19])
    (rule,) = published(session, clock.now()).rules
    assert rule.live_from == clock.now() and rule.layer == 1
