"""Assets (metadata): visibility down the tree, filters, retitling, deletion while in use."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.assets.models import AssetKind
from server.auth.models import AuditEvent
from tests.server.api import objects

URL = "/api/v1/assets"


def fields(r: Any) -> dict[str, str]:
    assert r.mimetype == "application/problem+json", r.data
    return {e["field"]: e["reason"] for e in r.json.get("errors", [])}


def test_content_flows_down_the_tree(client: FlaskClient, world, session: Session, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    poster = objects.asset(session, world.province, "Week poster", now)
    clip = objects.asset(session, world.city, "City clip", now, AssetKind.VIDEO)
    local = objects.asset(session, world.school, "School notice", now)
    objects.asset(session, world.other, "Other poster", now)
    city = world["city_operator"].headers

    def titles(query: str, headers: dict[str, str]) -> list[str]:
        r = client.get(f"{URL}?{query}", headers=headers)
        assert r.status_code == 200, r.json
        return [a["title"] for a in r.json["items"]]

    assert titles("sort=title", city) == ["City clip", "School notice", "Week poster"]
    assert titles("sort=title", world["outsider"].headers) == ["Other poster"]
    assert titles("kind=video", city) == ["City clip"]
    assert titles(f"sha256={poster.sha256.upper()}", city) == ["Week poster"]
    assert titles("name=notice", city) == ["School notice"]
    assert titles(f"organisation_id={world.province.id}", city) == ["Week poster"]
    r = client.get(f"{URL}?sort=-size&limit=1", headers=city)
    assert r.json["total"] == 3 and len(r.json["items"]) == 1
    for bad, field in [("kind=poster", "kind"), ("sha256=abc", "sha256"), ("sort=sha", "sort")]:
        r = client.get(f"{URL}?{bad}", headers=city)
        assert r.status_code == 422 and field in fields(r), bad

    # Readable below its organisation, but only its own organisation may change it.
    r = client.get(f"{URL}/{poster.id}", headers=city)
    assert r.status_code == 200 and r.json["sha256"] == poster.sha256 and r.json["kind"] == "image"
    assert client.patch(f"{URL}/{poster.id}", json={"title": "x"}, headers=city).status_code == 403
    assert client.delete(f"{URL}/{poster.id}", headers=city).status_code == 403
    r = client.patch(f"{URL}/{clip.id}", json={"title": "Bus clip"}, headers=city)
    assert r.status_code == 200 and r.json["title"] == "Bus clip"
    r = client.get(f"{URL}/{local.id}", headers=world["outsider"].headers)
    assert r.status_code == 404


def test_retitle_validation_and_delete(client: FlaskClient, world, session: Session, clock) -> None:  # type: ignore[no-untyped-def]
    now = clock.now()
    used = objects.asset(session, world.school, "Used", now)
    unused = objects.asset(session, world.school, "Unused", now)
    playlist = objects.playlist(session, world.school, "Morning", now, assets=[used])
    h = world["operator"].headers

    for body, field in [({}, "title"), ({"title": 5}, "title"), ({"title": "x" * 301}, "title")]:
        r = client.patch(f"{URL}/{unused.id}", json=body, headers=h)
        assert r.status_code == 422 and field in fields(r), body
    r = client.patch(f"{URL}/{unused.id}", json={"title": "Renamed", "kind": "video"}, headers=h)
    assert r.status_code == 422 and fields(r)["kind"] == "unknown field"
    assert (
        client.patch(
            f"{URL}/{unused.id}", json={"title": "x"}, headers=world["viewer"].headers
        ).status_code
        == 403
    )

    r = client.delete(f"{URL}/{used.id}", headers=h)
    assert r.status_code == 409 and str(playlist.id) in r.json["detail"]
    assert client.delete(f"{URL}/{unused.id}", headers=h).status_code == 204
    assert client.get(f"{URL}/{unused.id}", headers=h).status_code == 404
    assert client.get(f"{URL}/{used.id}", headers=h).status_code == 200
    session.rollback()
    rows = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "asset")).all()
    assert [(a.action, a.object_id) for a in rows] == [("delete", str(unused.id))]
