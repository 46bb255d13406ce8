"""Every string of the desk, calendar and preview pages goes through the catalogue: the
pseudo-locale walk of tests/server/web/test_translations.py over these pages, full of
data (waiting, approved and returned campaigns, a conflict-free week, a group)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.server.campaigns.pages_scenario import API, THEME_DAY, build, step
from tests.server.web.conftest import sign_in
from tests.server.web.test_translations import pseudo_catalogue, untranslated


def test_the_desk_calendar_and_preview_pages_show_no_string_outside_the_catalogue(
    app: Flask, client: FlaskClient, session: Session, world: Any, tmp_path: Path
) -> None:
    week = build(client, session, world)
    # A second city campaign, approved, and the first province one's playlist edited, so
    # that every section of the desk has something in it.
    r = client.post(
        f"{API}/campaigns",
        json={
            "name": "Lobby week",
            "organisation_id": world.city.id,
            "timezone": "Asia/Shanghai",
            "start_date": "2026-01-05",
            "end_date": "2026-01-11",
        },
        headers=world["city_operator"].headers,
    )
    lobby_week = int(r.json["id"])
    client.post(
        f"{API}/campaigns/{lobby_week}/entries",
        json={"playlist_id": week.city_playlist},
        headers=world["city_operator"].headers,
    )
    assert step(client, lobby_week, "submit", world["city_operator"]) == 200
    assert step(client, lobby_week, "approve", world["approver"]) == 200
    pseudo_catalogue(tmp_path)
    app.config["CONSOLE_LOCALES"] = ("en", "zh_CN", "eo")
    app.extensions["babel"].translation_directories = [str(tmp_path)]
    csrf = sign_in(client, "approver@province.test", lang="eo")
    client.post(
        "/desk",
        data={"csrf_token": csrf, "action": "send_back", "campaign_id": str(lobby_week),
              "comment": "logo"},
    )  # fmt: skip
    pages = [
        "/desk",
        f"/calendar?organisation_id={world.city.id}&first=2026-01-05&days=9",
        f"/calendar?group_id={week.group.id}",
        f"/campaigns/{week.province_campaign}/calendar",
        f"/preview?screen_id={week.branch.id}&at={THEME_DAY}T10:00",
        f"/preview?screen_id={week.lobby.id}&at={THEME_DAY}T10:00",
        f"/preview?group_id={week.group.id}&at={THEME_DAY}T10:00",
        "/preview",
        "/calendar?days=99",
    ]
    assert step(client, week.city_campaign, "approve", world["approver"]) == 200
    pages.append(f"/desk?confirm={week.city_campaign}")
    for url in pages:
        r = client.get(url)
        assert r.status_code in (200, 422), url
        assert untranslated(r.text) == [], url
    for campaign_id, status in ((week.province_campaign, 409), (week.city_campaign, 422)):
        r = client.post(
            "/desk",
            data={"csrf_token": csrf, "action": "send_back", "campaign_id": str(campaign_id)},
        )
        assert r.status_code == status and untranslated(r.text) == []
    assert step(client, week.province_campaign, "archive", world["approver"]) == 200
    r = client.post(
        "/desk",
        data={"csrf_token": csrf, "action": "publish", "campaign_id": str(week.city_campaign)},
    )
    assert r.status_code == 302
    assert untranslated(client.get(r.headers["Location"]).text) == []
