"""Playlists: items replaced atomically, asset visibility, default uniqueness, content version."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.models import AuditEvent
from server.campaigns import versions as content_version
from server.playlists.models import Playlist
from tests.server.api import objects

URL = "/api/v1/playlists"


def fields(r: Any) -> dict[str, str]:
    assert r.mimetype == "application/problem+json", r.data
    return {e["field"]: e["reason"] for e in r.json.get("errors", [])}


def version(session: Session) -> int:
    session.rollback()  # see what requests committed since the last read
    return content_version.current(session)


def test_items_use_own_and_ancestor_assets_only(
    client: FlaskClient, world, session: Session, clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    week = objects.asset(session, world.province, "Week", now)
    mine = objects.asset(session, world.school, "Mine", now)
    sibling = objects.asset(session, world.other, "Other", now)
    below = objects.asset(session, world.school, "Below", now)
    h = world["operator"].headers
    body = {
        "name": "Morning",
        "organisation_id": world.school.id,
        "items": [
            {"asset_id": week.id, "duration_ms": 10_000, "transition": "crossfade"},
            {"asset_id": mine.id, "duration_ms": 5_000, "fit": "cover"},
        ],
    }
    r = client.post(URL, json=body, headers=h)
    assert r.status_code == 201, r.json
    p = r.json
    assert [i["asset_id"] for i in p["items"]] == [week.id, mine.id]
    assert p["items"][0] == {
        "position": 0,
        "asset_id": week.id,
        "sha256": week.sha256,
        "duration_ms": 10_000,
        "fit": "contain",
        "transition": "crossfade",
    }
    assert p["duration_ms"] == 15_000 and p["item_count"] == 2 and p["is_default"] is False

    r = client.post(
        URL,
        json={**body, "name": "Bad", "items": [{"asset_id": sibling.id, "duration_ms": 1000}]},
        headers=h,
    )
    assert r.status_code == 422 and "items[0].asset_id" in fields(r)
    # A city playlist cannot use a school's asset: content flows down, not up.
    city_body = {"name": "City", "organisation_id": world.city.id}
    items = {"items": [{"asset_id": below.id, "duration_ms": 1000}]}
    r = client.post(URL, json={**city_body, **items}, headers=h)
    assert r.status_code == 422 and "items[0].asset_id" in fields(r)

    # Replacing is all or nothing: one bad item leaves the list as it was.
    items_url = f"{URL}/{p['id']}/items"
    bad = {
        "items": [
            {"asset_id": mine.id, "duration_ms": 1000},
            {"asset_id": week.id, "duration_ms": 2000},
            {"asset_id": sibling.id, "duration_ms": 3000},
        ]
    }
    r = client.put(items_url, json=bad, headers=h)
    assert r.status_code == 422 and "items[2].asset_id" in fields(r)
    assert [i["asset_id"] for i in client.get(f"{URL}/{p['id']}", headers=h).json["items"]] == [
        week.id,
        mine.id,
    ]
    for item, field in [
        ({"asset_id": mine.id, "duration_ms": 999}, "items[0].duration_ms"),
        ({"asset_id": mine.id, "duration_ms": 86_400_001}, "items[0].duration_ms"),
        ({"asset_id": mine.id, "duration_ms": 1000, "fit": "stretch"}, "items[0].fit"),
        ({"asset_id": mine.id, "duration_ms": 1000, "transition": "wipe"}, "items[0].transition"),
        ({"asset_id": mine.id}, "items[0].duration_ms"),
        ({"asset_id": "one", "duration_ms": 1000}, "items[0].asset_id"),
        ({"asset_id": mine.id, "duration_ms": 1000, "loop": True}, "items[0].loop"),
    ]:
        r = client.put(items_url, json={"items": [item]}, headers=h)
        assert r.status_code == 422 and field in fields(r), item
    r = client.put(
        items_url, json={"items": [{"asset_id": mine.id, "duration_ms": 86_400_000}] * 3}, headers=h
    )
    assert r.status_code == 200 and [i["position"] for i in r.json["items"]] == [0, 1, 2]
    r = client.put(items_url, json={"items": []}, headers=h)
    assert r.status_code == 200 and r.json["items"] == [] and r.json["duration_ms"] == 0


def test_one_default_per_organisation_and_version_bumps(
    client: FlaskClient, world, session: Session, clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    poster = objects.asset(session, world.city, "Poster", now)
    h = world["operator"].headers
    v0 = version(session)

    def create(name: str, is_default: bool) -> dict[str, Any]:
        body = {"name": name, "organisation_id": world.city.id, "is_default": is_default}
        r = client.post(URL, json=body, headers=h)
        assert r.status_code == 201, r.json
        return dict(r.json)

    plain = create("Plain", False)
    assert version(session) == v0  # not a default: screens do not see it
    first = create("First", True)
    v1 = version(session)
    assert v1 > v0
    assert (
        client.get(f"/api/v1/organisations/{world.city.id}", headers=h).json["default_playlist_id"]
        == first["id"]
    )
    second = create("Second", True)
    assert version(session) > v1
    session.rollback()
    defaults = session.scalars(
        select(Playlist.name).where(Playlist.organisation_id == world.city.id, Playlist.is_default)
    ).all()
    assert defaults == ["Second"]

    v2 = version(session)
    r = client.put(
        f"{URL}/{plain['id']}/items",
        json={"items": [{"asset_id": poster.id, "duration_ms": 1000}]},
        headers=h,
    )
    assert r.status_code == 200 and version(session) == v2
    r = client.put(
        f"{URL}/{second['id']}/items",
        json={"items": [{"asset_id": poster.id, "duration_ms": 1000}]},
        headers=h,
    )
    assert r.status_code == 200 and version(session) > v2
    v3 = version(session)
    r = client.patch(f"{URL}/{plain['id']}", json={"description": "just a list"}, headers=h)
    assert r.status_code == 200 and version(session) == v3
    r = client.patch(f"{URL}/{plain['id']}", json={"is_default": True}, headers=h)
    assert r.status_code == 200 and r.json["is_default"] and version(session) > v3
    assert client.get(f"{URL}/{second['id']}", headers=h).json["is_default"] is False
    r = client.get(f"{URL}?is_default=true", headers=h)
    assert [p["name"] for p in r.json["items"]] == ["Plain"]
    v4 = version(session)
    assert client.delete(f"{URL}/{plain['id']}", headers=h).status_code == 204
    assert version(session) > v4  # the organisation lost its default
    v5 = version(session)
    assert client.delete(f"{URL}/{first['id']}", headers=h).status_code == 204
    assert version(session) == v5

    r = client.post(URL, json={"name": "Second", "organisation_id": world.city.id}, headers=h)
    assert r.status_code == 409 and "name" in fields(r)
    r = client.patch(f"{URL}/{second['id']}", json={"is_default": None}, headers=h)
    assert r.status_code == 422 and "is_default" in fields(r)
    session.rollback()
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_type == "playlist")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["create"] * 3 + ["update_items"] * 2 + ["update"] * 2 + ["delete"] * 2


def test_campaign_playlists_are_read_only_and_scheduled_ones_stay(
    client: FlaskClient, world, session: Session, clock
) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    campaign = objects.campaign(session, world.province, "Cyber week", now)
    owned = objects.playlist(session, world.province, "Day 1", now, campaign=campaign)
    standalone = objects.playlist(session, world.province, "Loop", now)
    objects.schedule(session, campaign, standalone)
    h = world["admin"].headers

    r = client.get(f"{URL}/{owned.id}", headers=h)
    assert r.status_code == 200 and r.json["campaign_id"] == campaign.id
    for method, url, body in [
        ("PATCH", f"{URL}/{owned.id}", {"name": "x"}),
        ("PUT", f"{URL}/{owned.id}/items", {"items": []}),
        ("DELETE", f"{URL}/{owned.id}", None),
    ]:
        r = client.open(url, method=method, json=body, headers=h)
        assert r.status_code == 409 and "campaign" in r.json["detail"], method
    r = client.delete(f"{URL}/{standalone.id}", headers=h)
    assert r.status_code == 409 and "scheduled" in r.json["detail"]
    r = client.get(f"{URL}?standalone=false", headers=h)
    assert [p["name"] for p in r.json["items"]] == ["Day 1"]
    r = client.get(f"{URL}?campaign_id={campaign.id}", headers=h)
    assert [p["name"] for p in r.json["items"]] == ["Day 1"]
    r = client.get(f"{URL}?name=oo&sort=-name", headers=world["outsider"].headers)
    assert r.json["items"] == []
    assert client.get(f"{URL}/{owned.id}", headers=world["outsider"].headers).status_code == 404
