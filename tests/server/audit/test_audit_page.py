"""The audit log page: admins only (as `signage audit`), filters by who, what, organisation
and days, links to each object's page, before/after side by side, pages of 50, and no
organisation sees another's events."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.auth import audit
from server.auth.actors import actor_by_email
from server.clock import SettableClock
from tests.factories import World
from tests.server.delivery.content import pair
from tests.server.web.conftest import sign_in

ROW = re.compile(r'<tr id="event-(\d+)">')


def changes(client: FlaskClient, session: Session, world: World) -> int:
    """Our operator pairs and renames a screen (in Chinese) and makes a group; the other
    organisation's admin makes a group of its own. Returns our screen's id."""
    ops = world["operator"].headers
    _token, screen_id = pair(client, ops, world.school.id, name="大堂屏幕")
    r = client.patch(f"/api/v1/screens/{screen_id}", json={"name": "一楼大堂"}, headers=ops)
    assert r.status_code == 200, r.json
    r = client.post(
        "/api/v1/groups", json={"name": "教学楼", "organisation_id": world.school.id}, headers=ops
    )
    assert r.status_code == 201, r.json
    theirs = {"name": "their-secret-group", "organisation_id": world.other.id}
    r = client.post("/api/v1/groups", json=theirs, headers=world["outsider"].headers)
    assert r.status_code == 201, r.json
    return screen_id


def events(text: str) -> list[int]:
    return [int(i) for i in ROW.findall(text)]


def test_only_admins_see_the_log_as_the_command_does(
    client: FlaskClient, session: Session, world: World
) -> None:
    changes(client, session, world)
    for email in ("viewer@province.test", "operator@province.test", "approver@province.test"):
        sign_in(client, email)
        r = client.get("/audit")
        assert r.status_code == 403, email
        assert 'href="/audit"' not in client.get("/fleet").text  # not offered either
    sign_in(client, "admin@province.test")
    assert 'href="/audit"' in client.get("/fleet").text
    r = client.get("/audit")
    assert r.status_code == 200
    assert "operator@province.test" in r.text and "一楼大堂" in r.text
    assert "their-secret-group" not in r.text and "admin@other.test" not in r.text
    sign_in(client, "admin@other.test")
    theirs = client.get("/audit")
    assert theirs.status_code == 200 and "their-secret-group" in theirs.text
    assert "大堂" not in theirs.text and "operator@province.test" not in theirs.text
    assert "教学楼" not in theirs.text
    # Naming our organisation does not show its events: it does not exist for them.
    r = client.get(f"/audit?organisation_id={world.school.id}")
    assert r.status_code == 404 and "大堂" not in r.text


def test_filters_links_and_before_after(
    client: FlaskClient, session: Session, world: World, clock: SettableClock
) -> None:
    screen_id = changes(client, session, world)
    sign_in(client, "admin@province.test", lang="zh_CN")
    everything = events(client.get("/audit").text)
    assert len(everything) >= 3
    r = client.get("/audit?who=OPERATOR@province.test&object_type=screen&action=update")
    assert r.status_code == 200
    rows = events(r.text)
    assert len(rows) == 1
    row = r.text[r.text.index(f'id="event-{rows[0]}"') :]
    row = row[: row.index("</tr>\n  <tr") if "</tr>\n  <tr" in row else len(row)]
    assert f'href="/screens/{screen_id}"' in row
    assert "修改前" in r.text and "修改后" in r.text  # before and after, in Chinese
    assert re.search(r'class="before" translate="no">大堂屏幕<', row)
    assert re.search(r'class="after" translate="no">一楼大堂<', row)
    groups = client.get("/audit?object_type=group")
    assert 'href="/groups"' in groups.text and "教学楼" in groups.text
    assert client.get("/audit?who=nobody@province.test").text.count('<tr id="event-') == 0
    # The organisation filter takes its subtree: School's events are City's too.
    assert events(client.get(f"/audit?organisation_id={world.city.id}").text) == everything
    assert events(client.get(f"/audit?organisation_id={world.province.id}").text) == everything
    # Days: the viewer's zone (UTC here); `until` includes its day.
    today = clock.now().date()
    same_day = client.get(f"/audit?since={today}&until={today}")
    assert events(same_day.text) == everything
    before = client.get(f"/audit?until={today - timedelta(days=1)}")
    assert events(before.text) == [] and "没有符合条件的记录" in before.text
    assert events(client.get(f"/audit?since={today + timedelta(days=1)}").text) == []


def test_pages_of_fifty(client: FlaskClient, session: Session, world: World) -> None:
    admin = actor_by_email(session, "admin@province.test")
    now = world.province.created_at
    for i in range(60):
        audit.record(
            session, admin, now + timedelta(seconds=i), "update", "screen", i + 1,
            world.school.id, before={"name": f"old {i}"}, after={"name": f"new {i}"},
        )  # fmt: skip
    session.commit()
    sign_in(client, "admin@province.test")
    first = client.get("/audit")
    assert len(events(first.text)) == 50 and "new 59" in first.text
    assert "1–50 of 60" in first.text
    second = client.get(html.unescape(re.search(r'href="([^"]*offset=50[^"]*)"', first.text)[1]))
    assert len(events(second.text)) == 10 and "new 0" in second.text and "new 59" not in second.text


def test_bad_filters_are_refused_with_the_reason(
    client: FlaskClient, session: Session, world: World
) -> None:
    changes(client, session, world)
    sign_in(client, "admin@province.test")
    cases = {
        "since=2026-02-30": (422, "From: a date such as 2026-01-31"),
        "until=soon": (422, "Until (included): a date such as"),
        "since=2026-01-05&until=2026-01-01": (422, "must not be before"),
        "offset=-1": (422, "Page: not a valid choice"),
        "organisation_id=x": (422, "Organisation: not a valid choice"),
        "organisation_id=424242": (404, "no organisation 424242"),
        "who=" + "a" * 400: (422, "Who (e-mail): at most 320 characters"),
    }
    for query, (status, reason) in cases.items():
        r = client.get(f"/audit?{query}")
        assert r.status_code == status, (query, r.status_code)
        assert 'role="alert"' in r.text and reason in html.unescape(r.text), query
        assert events(r.text) == []
