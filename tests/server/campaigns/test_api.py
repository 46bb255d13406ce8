"""Campaign and schedule-entry editing through the API."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.accounts.models import Role
from tests.server.api import objects

API = "/api/v1"
BODY = {
    "name": "Week",
    "timezone": "Asia/Shanghai",
    "start_date": "2026-01-05",
    "end_date": "2026-01-11",
}


def test_create_edit_and_list(client: FlaskClient, session: Session, world: Any) -> None:
    h = world["operator"].headers
    r = client.post(f"{API}/campaigns", json={**BODY, "organisation_id": world.city.id}, headers=h)
    assert r.status_code == 201, r.json
    campaign = r.json
    assert campaign["status"] == "draft" and campaign["targets"]["everyone"] is True
    again = client.post(
        f"{API}/campaigns", json={**BODY, "organisation_id": world.city.id}, headers=h
    )
    assert again.status_code == 409
    r = client.post(
        f"{API}/campaigns",
        json={**BODY, "name": "x", "organisation_id": world.city.id, "timezone": "Mars/Base"},
        headers=h,
    )
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "timezone"
    r = client.post(
        f"{API}/campaigns",
        json={**BODY, "name": "y", "organisation_id": world.city.id, "end_date": "2026-01-01"},
        headers=h,
    )
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "end_date"
    r = client.patch(
        f"{API}/campaigns/{campaign['id']}",
        json={"targets": {"organisations": [world.other.id]}},
        headers=h,
    )
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "targets.organisations"
    r = client.patch(
        f"{API}/campaigns/{campaign['id']}",
        json={"targets": {"organisations": [world.school.id]}, "name": "Week 2"},
        headers=h,
    )
    assert r.status_code == 200 and r.json["name"] == "Week 2"
    listed = client.get(
        f"{API}/campaigns", query_string={"status": "draft"}, headers=world["viewer"].headers
    )
    assert [c["name"] for c in listed.json["items"]] == ["Week 2"]
    # A school operator reads the city's campaign (content flows down) but cannot edit it.
    school_op = world.add_person(
        session, "op@school.test", world.school, Role.OPERATOR, world.school.created_at
    )
    session.commit()
    assert (
        client.get(f"{API}/campaigns/{campaign['id']}", headers=school_op.headers).status_code
        == 200
    )
    r = client.patch(
        f"{API}/campaigns/{campaign['id']}", json={"description": "x"}, headers=school_op.headers
    )
    assert r.status_code in (403, 404)


def test_entries_are_checked_and_edits_send_the_campaign_back_to_draft(
    client: FlaskClient, session: Session, world: Any
) -> None:
    now = world.city.created_at
    mine = objects.playlist(
        session, world.city, "mine", now, assets=[objects.asset(session, world.city, "a", now)]
    )
    foreign = objects.playlist(
        session, world.other, "theirs", now, assets=[objects.asset(session, world.other, "b", now)]
    )
    h = world["approver"].headers
    campaign_id = client.post(
        f"{API}/campaigns", json={**BODY, "organisation_id": world.city.id}, headers=h
    ).json["id"]
    entries = f"{API}/campaigns/{campaign_id}/entries"
    r = client.post(entries, json={"playlist_id": foreign.id}, headers=h)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "playlist_id"
    r = client.post(entries, json={"playlist_id": mine.id, "first_date": "2026-02-01"}, headers=h)
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "first_date"
    r = client.post(
        entries,
        json={"playlist_id": mine.id, "windows": [{"start": "22:00", "end": "06:00"}]},
        headers=h,
    )
    assert r.status_code == 201, r.json
    entry = r.json
    assert entry["windows"] == [["22:00", "06:00"]] and entry["targets"] == {}
    r = client.post(
        entries,
        json={"playlist_id": mine.id, "windows": [{"start": "25:00", "end": "06:00"}]},
        headers=h,
    )
    assert r.status_code == 422
    assert client.post(f"{API}/campaigns/{campaign_id}/publish", headers=h).status_code == 200
    r = client.patch(
        f"{entries}/{entry['id']}", json={"priority": 7, "weekdays": [0, 4]}, headers=h
    )
    assert r.status_code == 200 and r.json["priority"] == 7 and r.json["weekdays"] == [0, 4]
    got = client.get(f"{API}/campaigns/{campaign_id}", headers=h).json
    assert got["status"] == "draft" and got["live"] is True
    r = client.patch(f"{entries}/{entry['id']}", json={"layer": None}, headers=h)
    assert r.status_code == 422
    assert client.delete(f"{entries}/{entry['id']}", headers=h).status_code == 204
    assert client.get(f"{API}/campaigns/{campaign_id}", headers=h).json["entries"] == []
    assert client.delete(f"{entries}/{entry['id']}", headers=h).status_code == 404


def test_an_unknown_playlist_is_a_422_not_a_500(
    client: FlaskClient, session: Session, world: Any
) -> None:
    now = world.city.created_at
    mine = objects.playlist(
        session, world.city, "mine", now, assets=[objects.asset(session, world.city, "a", now)]
    )
    h = world["operator"].headers
    campaign_id = client.post(
        f"{API}/campaigns", json={**BODY, "organisation_id": world.city.id}, headers=h
    ).json["id"]
    entries = f"{API}/campaigns/{campaign_id}/entries"
    entry_id = client.post(entries, json={"playlist_id": mine.id}, headers=h).json["id"]
    for bad in (2**31 - 1, mine.id + 1000):
        r = client.patch(f"{entries}/{entry_id}", json={"playlist_id": bad}, headers=h)
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "playlist_id"
        r = client.post(entries, json={"playlist_id": bad}, headers=h)
        assert r.status_code == 422
