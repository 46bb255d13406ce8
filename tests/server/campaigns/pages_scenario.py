"""A small Cybersecurity Week for the console's desk, calendar and preview page tests.

Province publishes a week for all screens with a theme day; City schedules its own
campaign for the "Bank branches" group, with the same priority as the theme day, so on a
bank branch the group target wins by specificity. Built through the REST API, as an
operator and an approver would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.screens.models import Group, Screen
from tests.server.api import objects

API = "/api/v1"
THEME_DAY = "2026-01-06"


@dataclass
class Week:
    province_campaign: int
    city_campaign: int
    group: Group
    branch: Screen
    lobby: Screen
    city_playlist: int
    theme_playlist: int


def _post(client: FlaskClient, url: str, body: dict[str, Any], who: Any) -> dict[str, Any]:
    r = client.post(f"{API}{url}", json=body, headers=who.headers)
    assert r.status_code in (200, 201), r.json
    data: dict[str, Any] = r.json
    return data


def step(client: FlaskClient, campaign_id: int, what: str, who: Any) -> int:
    return client.post(f"{API}/campaigns/{campaign_id}/{what}", headers=who.headers).status_code


def build(client: FlaskClient, session: Session, world: Any, *, submit_city: bool = True) -> Week:
    now = world.city.created_at
    group = objects.group(session, world.city, "Bank branches", now)
    branch = objects.screen(session, world.city, "Branch 1", now, groups=[group])
    lobby = objects.screen(session, world.city, "City hall lobby", now)
    daily = objects.playlist(
        session, world.province, "Week posters", now,
        assets=[objects.asset(session, world.province, "week-poster", now)],
    )  # fmt: skip
    theme = objects.playlist(
        session, world.province, "Finance Day", now,
        assets=[objects.asset(session, world.province, "finance-poster", now)],
    )  # fmt: skip
    local = objects.playlist(
        session, world.city, "Branch slogans", now,
        assets=[objects.asset(session, world.city, "branch-poster", now)],
    )  # fmt: skip
    ids = (daily.id, theme.id, local.id, group.id)
    week = {"timezone": "Asia/Shanghai", "start_date": "2026-01-05", "end_date": "2026-01-11"}
    province = _post(
        client,
        "/campaigns",
        {"name": "Cyber Week", "organisation_id": world.province.id, **week},
        world["operator"],
    )["id"]
    _post(client, f"/campaigns/{province}/entries", {"playlist_id": ids[0]}, world["operator"])
    _post(
        client,
        f"/campaigns/{province}/entries",
        {"playlist_id": ids[1], "first_date": THEME_DAY, "last_date": THEME_DAY, "priority": 1},
        world["operator"],
    )
    assert step(client, province, "submit", world["operator"]) == 200
    assert step(client, province, "approve", world["approver"]) == 200
    assert step(client, province, "publish", world["approver"]) == 200
    city = _post(
        client,
        "/campaigns",
        {
            "name": "Branch week",
            "organisation_id": world.city.id,
            "targets": {"groups": [ids[3]]},
            **week,
        },
        world["city_operator"],
    )["id"]
    _post(
        client,
        f"/campaigns/{city}/entries",
        {"playlist_id": ids[2], "priority": 1, "windows": [{"start": "09:00", "end": "17:00"}]},
        world["city_operator"],
    )
    if submit_city:
        assert step(client, city, "submit", world["city_operator"]) == 200
    session.rollback()
    return Week(province, city, group, branch, lobby, local.id, theme.id)
