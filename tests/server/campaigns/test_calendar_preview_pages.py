"""The fleet calendar, a campaign's week, and what plays where and why, as pages."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.server.api import objects
from tests.server.campaigns.pages_scenario import THEME_DAY, Week, build, step
from tests.server.web.conftest import sign_in


def published_week(client: FlaskClient, session: Session, world: Any) -> Week:
    week = build(client, session, world)
    assert step(client, week.city_campaign, "approve", world["approver"]) == 200
    assert step(client, week.city_campaign, "publish", world["approver"]) == 200
    session.rollback()
    return week


def cells_of(html: str, screen: str) -> str:
    row = html.split(f">{screen}</a>", 1)[1]
    return row.split("</tr>", 1)[0]


def test_the_fleet_calendar_shows_each_screen_each_day_with_the_theme_day(
    client: FlaskClient, session: Session, world: Any
) -> None:
    week = published_week(client, session, world)
    sign_in(client, "viewer@province.test")
    r = client.get(f"/calendar?organisation_id={world.city.id}&first=2026-01-05&days=3")
    assert r.status_code == 200
    assert "01-05</span>" in r.text and "01-07</span>" in r.text
    assert "01-08</span>" not in r.text
    lobby = cells_of(r.text, "City hall lobby")
    branch = cells_of(r.text, "Branch 1")
    # The theme day wins all of its day over the week posters.
    assert lobby.count("Finance Day") == 1 and lobby.count("Week posters") == 2
    assert branch.count("Branch slogans") == 3
    assert "Asia/Shanghai" in r.text
    # A group: only its screens.
    r = client.get(f"/calendar?group_id={week.group.id}&first={THEME_DAY}&days=1")
    assert r.status_code == 200
    assert "Branch 1" in r.text and "City hall lobby" not in r.text
    # Nothing written on this page: the viewer sees no form that posts.
    assert 'method="post" action="/calendar' not in r.text


def test_the_fleet_calendar_marks_days_with_nothing_and_conflicts(
    client: FlaskClient, session: Session, world: Any
) -> None:
    published_week(client, session, world)
    sign_in(client, "viewer@province.test")
    r = client.get(f"/calendar?organisation_id={world.city.id}&first=2026-01-12&days=2")
    assert r.status_code == 200
    assert r.text.count('class="cal-empty"') == 4  # two screens, two days after the week
    assert "nothing scheduled" in r.text


def test_the_fleet_calendar_marks_a_conflict(
    client: FlaskClient, session: Session, world: Any
) -> None:
    """Two entries of one publication tie on layer, priority and target on one day."""
    published_week(client, session, world)
    now = world.city.created_at
    one = objects.playlist(
        session, world.province, "Clash A", now,
        assets=[objects.asset(session, world.province, "clash-a", now)],
    )  # fmt: skip
    two = objects.playlist(
        session, world.province, "Clash B", now,
        assets=[objects.asset(session, world.province, "clash-b", now)],
    )  # fmt: skip
    h = world["approver"].headers
    r = client.post(
        "/api/v1/campaigns",
        json={"name": "Clash", "organisation_id": world.province.id, "timezone": "Asia/Shanghai",
              "start_date": "2026-01-08", "end_date": "2026-01-08"},
        headers=h,
    )  # fmt: skip
    clash = r.json["id"]
    for playlist in (one, two):
        r = client.post(
            f"/api/v1/campaigns/{clash}/entries",
            json={"playlist_id": playlist.id, "priority": 9},
            headers=h,
        )
        assert r.status_code == 201, r.json
    assert step(client, clash, "publish", world["approver"]) == 200
    sign_in(client, "viewer@province.test")
    r = client.get(f"/calendar?organisation_id={world.city.id}&first=2026-01-07&days=3")
    lobby = cells_of(r.text, "City hall lobby")
    assert lobby.count('class="cal-conflict"') == 1 and "Clash A" in lobby
    assert '<span class="flag">conflict</span>' in lobby


def test_the_fleet_calendar_refuses_bad_input_with_a_reason(
    client: FlaskClient, session: Session, world: Any
) -> None:
    sign_in(client, "viewer@province.test")
    r = client.get("/calendar?days=0")
    assert r.status_code == 422 and "Show 1 to 31 days." in r.text
    r = client.get("/calendar?first=yesterday")
    assert r.status_code == 422 and "The first day must be a date like 2026-01-05." in r.text
    r = client.get(f"/calendar?organisation_id={world.other.id}")
    assert r.status_code == 404
    other_group = objects.group(session, world.other, "theirs", world.other.created_at)
    assert client.get(f"/calendar?group_id={other_group.id}").status_code == 404


def test_a_campaigns_week_shows_its_theme_day_and_windows_hour_by_hour(
    client: FlaskClient, session: Session, world: Any
) -> None:
    week = build(client, session, world)
    sign_in(client, "viewer@province.test")
    r = client.get(f"/campaigns/{week.province_campaign}/calendar")
    assert r.status_code == 200
    head = r.text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert f"{THEME_DAY}</span>" in head and "theme day:" in head and "Finance Day" in head
    body = r.text.split("</thead>", 1)[1]
    assert body.count('class="cal-theme"') == 24  # the whole theme day
    r = client.get(f"/campaigns/{week.city_campaign}/calendar")
    assert r.status_code == 200
    body = r.text.split("</thead>", 1)[1]
    assert body.count('class="cal-window"') == 7 * 8  # 09:00–17:00 every day
    assert "theme day:" not in r.text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert client.get(f"/campaigns/{week.city_campaign}/calendar?first=x").status_code == 422
    sign_in(client, "admin@other.test")
    assert client.get(f"/campaigns/{week.city_campaign}/calendar").status_code == 404
    assert client.get("/campaigns/999999/calendar").status_code == 404


def test_preview_explains_why_the_group_campaign_wins_on_a_bank_branch(
    client: FlaskClient, session: Session, world: Any
) -> None:
    week = published_week(client, session, world)
    sign_in(client, "viewer@province.test")
    url = f"/preview?screen_id={week.branch.id}&at={THEME_DAY}T10:00"
    r = client.get(url)
    assert r.status_code == 200
    text = r.text
    assert f"{THEME_DAY} 10:00:00" in text and "Asia/Shanghai" in text
    at_instant = text.split('id="at-instant"', 1)[1].split('id="on-screen"', 1)[0]
    assert "Branch slogans" in at_instant and "Branch week" in at_instant
    assert "Specificity: a group target beats all screens." in at_instant
    beaten = at_instant.split('id="beaten"', 1)[1]
    assert "Cyber Week" in beaten and "lost on" in beaten
    assert 'id="poster"' in text and "/thumbnail?v=" in text  # no variant made yet
    # The day's timeline: the theme day before and after the branch window.
    segments = text.split('id="segments"', 1)[1]
    assert segments.count("Finance Day") == 2 and segments.count("Branch slogans") == 1
    # The lobby is in no group: the theme day wins there by priority over the week.
    r = client.get(f"/preview?screen_id={week.lobby.id}&at={THEME_DAY}T10:00")
    assert "Finance Day" in r.text and "Priority: 1 beats 0." in r.text


def test_preview_of_a_group_and_its_refusals(
    client: FlaskClient, session: Session, world: Any
) -> None:
    week = published_week(client, session, world)
    sign_in(client, "viewer@province.test")
    r = client.get(f"/preview?group_id={week.group.id}&at={THEME_DAY}T10:00")
    assert r.status_code == 200
    table = r.text.split('id="group-screens"', 1)[1]
    assert "Branch 1" in table and "City hall lobby" not in table
    assert "group target beats all screens" in table
    r = client.get(f"/preview?screen_id={week.branch.id}&at=noon")
    assert r.status_code == 422 and "noon is not a date and time (e.g. 2026-01-05T10:00)." in r.text
    r = client.get(f"/preview?screen_id={week.branch.id}&from=2026-01-05T00:00&to=2026-03-01T00:00")
    assert r.status_code == 422 and "a timeline spans at most 31 days" in r.text
    theirs = objects.screen(session, world.other, "Theirs", world.other.created_at)
    assert client.get(f"/preview?screen_id={theirs.id}").status_code == 404
    assert client.get("/preview").status_code == 200
