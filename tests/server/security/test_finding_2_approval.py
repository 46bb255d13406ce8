"""Issue 12, finding 2: what is published is exactly what was approved."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth.models import AuditEvent
from server.campaigns.models import Campaign, Publication
from server.playlists.models import Playlist, PlaylistItem
from tests.server.api import objects

API = "/api/v1"


def _approved(client: FlaskClient, world: Any, campaign_id: int) -> None:
    r = client.post(f"{API}/campaigns/{campaign_id}/submit", headers=world["operator"].headers)
    assert r.status_code == 200, r.json
    r = client.post(f"{API}/campaigns/{campaign_id}/approve", headers=world["approver"].headers)
    assert r.status_code == 200 and r.json["status"] == "approved", r.json


def _setup(session: Session, world: Any, now: Any) -> tuple[Any, Any, Playlist, Campaign]:
    good = objects.asset(session, world.city, "Approved poster", now)
    bad = objects.asset(session, world.city, "Swapped poster", now)
    playlist = objects.playlist(session, world.city, "Week", now, assets=[good])
    campaign = objects.campaign(session, world.city, "Week", now)
    objects.schedule(session, campaign, playlist)
    return good, bad, playlist, campaign


def test_finding_2_playlist_edit_after_approval_sends_the_campaign_back_to_draft(
    client: FlaskClient, world: Any, session: Session, clock: Any
) -> None:
    good, bad, playlist, campaign = _setup(session, world, clock.now())
    _approved(client, world, campaign.id)

    r = client.put(
        f"{API}/playlists/{playlist.id}/items",
        json={"items": [{"asset_id": bad.id, "duration_ms": 10_000}]},
        headers=world["operator"].headers,
    )
    assert r.status_code == 200, r.json
    got = client.get(f"{API}/campaigns/{campaign.id}", headers=world["viewer"].headers).json
    assert got["status"] == "draft"
    assert f"playlist {playlist.id}" in got["draft_reason"]
    assert "operator@province.test" in got["draft_reason"]
    session.rollback()
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "back_to_draft", AuditEvent.object_id == str(campaign.id)
        )
    ).one()
    assert event.summary["after"]["reason"] == got["draft_reason"]

    # An operator's resubmission needs a new approval; only then is the new poster published.
    _approved(client, world, campaign.id)
    r = client.post(f"{API}/campaigns/{campaign.id}/publish", headers=world["approver"].headers)
    assert r.status_code in (200, 201), r.json
    session.rollback()
    snapshot = session.scalars(select(Publication.snapshot)).one()
    shas = [i["sha256"] for p in snapshot["playlists"].values() for i in p["items"]]
    assert shas == [bad.sha256]


def test_finding_2_content_changed_behind_the_approval_is_not_published(
    client: FlaskClient, world: Any, session: Session, clock: Any
) -> None:
    good, bad, playlist, campaign = _setup(session, world, clock.now())
    _approved(client, world, campaign.id)
    # A change that bypasses the playlist service (a campaign file, a script, a bug).
    item = session.scalars(
        select(PlaylistItem).where(PlaylistItem.playlist_id == playlist.id)
    ).one()
    item.asset_id = bad.id
    session.commit()

    r = client.post(f"{API}/campaigns/{campaign.id}/publish", headers=world["approver"].headers)
    assert r.status_code == 409, r.json
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Publication)) == 0


def test_finding_2_default_playlist_changes_need_an_approver_and_are_audited(
    client: FlaskClient, world: Any, session: Session, clock: Any
) -> None:
    now = clock.now()
    poster = objects.asset(session, world.city, "Poster", now)
    other = objects.asset(session, world.city, "Other", now)
    plain = objects.playlist(session, world.city, "Plain", now, assets=[poster])
    default = objects.playlist(
        session, world.city, "Default", now, assets=[poster], is_default=True
    )
    op = world["operator"].headers

    r = client.patch(f"{API}/playlists/{plain.id}", json={"is_default": True}, headers=op)
    assert r.status_code == 403, r.json
    r = client.post(
        f"{API}/playlists",
        json={"name": "Sneaky", "organisation_id": world.city.id, "is_default": True},
        headers=op,
    )
    assert r.status_code == 403, r.json
    r = client.put(
        f"{API}/playlists/{default.id}/items",
        json={"items": [{"asset_id": other.id, "duration_ms": 5000}]},
        headers=op,
    )
    assert r.status_code == 403, r.json
    session.rollback()
    assert session.get(Playlist, plain.id).is_default is False  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(Playlist)) == 2
    assert [i.asset_id for i in session.get(Playlist, default.id).items] == [poster.id]  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0

    r = client.patch(
        f"{API}/playlists/{plain.id}", json={"is_default": True}, headers=world["approver"].headers
    )
    assert r.status_code == 200 and r.json["is_default"] is True
    session.rollback()
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "set_default" in actions
