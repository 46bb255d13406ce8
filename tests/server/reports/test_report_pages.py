"""The reports page: the same totals as the REST view and the CSV (Chinese names, a BOM),
the `until` day included, filters, refusals on the page, and nobody else's plays."""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.clock import SettableClock
from server.reports import pages
from server.screens.models import Group
from server.storage import get_store
from tests.factories import World
from tests.server.delivery.content import device, image_asset, pair
from tests.server.web.conftest import sign_in

PLAYS = "/api/v1/player/plays"
API = "/api/v1/reports/plays"
CAMPAIGN = "春节活动"
ASSET = "新年海报"
LOBBY, CANTEEN = "大堂屏幕", "食堂屏幕"
# Shanghai days: 2026-01-04 16:00Z is the 5th's midnight.
LAST_OF_4TH = datetime.fromisoformat("2026-01-04T15:59:50+00:00")
FIRST_OF_5TH = datetime.fromisoformat("2026-01-04T16:00:00+00:00")
TOTAL = re.compile(r'id="total-(plays|seconds)">([^<]+)<')
CSV_LINK = re.compile(r'id="download-csv" href="([^"]+)"')


def _z(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _event(n: int, start: datetime, seconds: float, **extra: str) -> dict[str, str]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "asset": extra.pop("asset"),
        "playlist": "早间",
        "campaign": CAMPAIGN,
        "start": _z(start),
        "end": _z(start + timedelta(seconds=seconds)),
        **extra,
    }


@dataclass
class Plays:
    lobby_id: int
    canteen_id: int
    group_id: int


def record(client: FlaskClient, session: Session, world: World, clock: SettableClock) -> Plays:
    """Two screens of School report plays through the player's endpoint: a Chinese-named
    campaign, asset and screens, across the Shanghai midnight between the 4th and the 5th."""
    world.province.timezone = "Asia/Shanghai"
    now = clock.now()
    group = Group(organisation_id=world.school.id, name="一楼", created_at=now)
    session.add(group)
    session.commit()
    poster = image_asset(session, get_store(client.application), world.province, "red", now)
    poster.title = ASSET
    session.commit()
    ops = world["operator"].headers
    lobby, lobby_id = pair(client, ops, world.school.id, name=LOBBY, group_ids=[group.id])
    canteen, canteen_id = pair(client, ops, world.school.id, hardware_id="hw-2", name=CANTEEN)
    sha = poster.sha256
    batches = {
        lobby: [
            _event(1, LAST_OF_4TH - timedelta(days=1), 10, asset=sha),
            _event(2, LAST_OF_4TH, 10.5, asset=sha),  # the 4th's last seconds
            _event(3, FIRST_OF_5TH, 15, asset=sha),
            _event(4, FIRST_OF_5TH + timedelta(hours=2), 5, asset=sha, playlist="午间"),
        ],
        canteen: [
            _event(5, FIRST_OF_5TH + timedelta(hours=1), 20, asset=sha),
            _event(6, LAST_OF_4TH - timedelta(hours=3), 7.25, asset=sha, campaign=""),
        ],
    }
    for token, events in batches.items():
        r = client.post(PLAYS, json={"events": events}, headers=device(token))
        assert r.status_code == 200 and r.json["accepted"] == len(events), r.json
    return Plays(lobby_id, canteen_id, group.id)


def page_totals(text: str) -> tuple[int, float]:
    found = dict(TOTAL.findall(text))
    return int(found["plays"]), float(found["seconds"])


def csv_totals(body: bytes) -> tuple[int, float, list[dict[str, str]]]:
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    return sum(int(r["plays"]) for r in rows), sum(float(r["seconds"]) for r in rows), rows


def test_page_api_and_csv_agree_with_chinese_names(
    client: FlaskClient, session: Session, world: World, clock: SettableClock
) -> None:
    record(client, session, world, clock)
    sign_in(client, "viewer@province.test", lang="zh_CN")
    query = "since=2026-01-03&until=2026-01-05&group_by=day&group_by=campaign&group_by=asset"
    query += "&group_by=screen"
    page = client.get(f"/reports?{query}")
    assert page.status_code == 200, page.text
    for name in (CAMPAIGN, ASSET, LOBBY, CANTEEN):
        assert name in page.text
    assert "下载 CSV" in page.text and 'id="chart-plays"' in page.text
    plays, seconds = page_totals(page.text)
    assert (plays, seconds) == (6, 67.75)

    # The zone was the organisation's (Shanghai): the API is asked for it by name.
    api = client.get(
        f"{API}?since=2026-01-03&until=2026-01-05&timezone=Asia/Shanghai"
        "&group_by=day,campaign,asset,screen",
        headers=world["viewer"].headers,
    )
    assert api.status_code == 200 and (api.json["plays"], api.json["seconds"]) == (6, 67.75)

    link = html.unescape(CSV_LINK.search(page.text).group(1))  # type: ignore[union-attr]
    assert "timezone=Asia%2FShanghai" in link
    download = client.get(link)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in download.headers["Content-Disposition"]
    csv_plays, csv_seconds, rows = csv_totals(download.data)
    assert (csv_plays, csv_seconds) == (plays, seconds)
    assert {r["campaign"] for r in rows} == {CAMPAIGN, ""}
    assert {r["asset_title"] for r in rows} == {ASSET}
    assert {r["screen_name"] for r in rows} == {LOBBY, CANTEEN}
    # Row for row, the CSV is the API's.
    api_csv = client.get(
        f"{API}?since=2026-01-03&until=2026-01-05&timezone=Asia/Shanghai"
        "&group_by=day,campaign,asset,screen&format=csv",
        headers=world["viewer"].headers,
    )
    assert api_csv.data == download.data


def test_the_until_day_is_included_to_its_last_second(
    client: FlaskClient, session: Session, world: World, clock: SettableClock
) -> None:
    record(client, session, world, clock)
    sign_in(client, "viewer@province.test")
    page = client.get("/reports?since=2026-01-04&until=2026-01-04&group_by=day")
    assert page.status_code == 200
    # Events 2 (23:59:50 on the 4th) and 6 count; 3 (00:00 on the 5th) does not.
    assert page_totals(page.text) == (2, 17.75)
    download = client.get(
        html.unescape(CSV_LINK.search(page.text).group(1))  # type: ignore[union-attr]
    )
    plays, seconds, rows = csv_totals(download.data)
    assert (plays, seconds) == (2, 17.75) and [r["day"] for r in rows] == ["2026-01-04"]
    five = client.get("/reports?since=2026-01-05&until=2026-01-05&group_by=day")
    assert page_totals(five.text) == (3, 40.0)
    # In UTC the 5th's first Shanghai seconds are the 4th's.
    utc = client.get("/reports?since=2026-01-04&until=2026-01-04&timezone=UTC&group_by=day")
    assert page_totals(utc.text) == (5, 57.75)


def test_filters_narrow_the_totals(
    client: FlaskClient, session: Session, world: World, clock: SettableClock
) -> None:
    made = record(client, session, world, clock)
    sign_in(client, "viewer@province.test")
    base = "/reports?since=2026-01-03&until=2026-01-05"
    cases = {
        "": (6, 67.75),
        f"&campaign={CAMPAIGN}": (5, 60.5),
        "&playlist=午间": (1, 5.0),
        f"&screen_id={made.canteen_id}": (2, 27.25),
        f"&group_id={made.group_id}": (4, 40.5),
        f"&organisation_id={world.school.id}": (6, 67.75),
        f"&organisation_id={world.city.id}&screen_id={made.lobby_id}": (4, 40.5),
    }
    for extra, expected in cases.items():
        r = client.get(base + extra)
        assert r.status_code == 200, (extra, r.text)
        assert page_totals(r.text) == expected, extra
    by_playlist = client.get(base + "&group_by=playlist")
    assert "午间" in by_playlist.text and "早间" in by_playlist.text
    # Offered as choices: the recorded names.
    assert f'<option value="{CAMPAIGN}"' in by_playlist.text


def test_bad_filters_are_refused_on_the_page_with_the_reason(
    client: FlaskClient, session: Session, world: World, clock: SettableClock
) -> None:
    record(client, session, world, clock)
    sign_in(client, "viewer@province.test")
    cases = {
        "since=2026-13-01": (422, "From: a date such as 2026-01-31"),
        "until=yesterday": (422, "Until (included): a date such as 2026-01-31"),
        "since=0001-01-01": (422, "From: a date such as"),
        "since=2026-01-05&until=2026-01-01": (422, "must not be before"),
        "since=2024-01-01&until=2026-01-01": (422, "at most 400 days"),
        "group_by=colour": (422, "Group by: choose among"),
        "timezone=Mars/Olympus": (422, "Time zone: unknown time zone"),
        "screen_id=abc": (422, "Screen: not a valid choice"),
        "group_id=99999999999999999999": (422, "Group: not a valid choice"),
        f"organisation_id={world.other.id}": (404, f"no organisation {world.other.id}"),
        "group_id=4242": (404, "no group 4242"),
        "campaign=" + "x" * 301: (422, "Campaign: at most 300 characters"),
    }
    for query, (status, reason) in cases.items():
        for path in ("/reports", "/reports/plays.csv"):
            r = client.get(f"{path}?{query}")
            assert r.status_code == status, (path, query, r.status_code)
            assert r.mimetype == "text/html"
            assert 'role="alert"' in r.text and reason in html.unescape(r.text), (query, r.text)
    zh = sign_in(client, "viewer@province.test", lang="zh_CN")
    assert zh
    r = client.get("/reports?since=2026-13-01")
    assert r.status_code == 422 and "开始日期" in r.text


def test_an_organisation_sees_only_its_own_plays(
    client: FlaskClient, session: Session, world: World, clock: SettableClock
) -> None:
    made = record(client, session, world, clock)
    sign_in(client, "admin@other.test")
    r = client.get("/reports?since=2026-01-03&until=2026-01-05&group_by=screen")
    assert r.status_code == 200
    assert page_totals(r.text) == (0, 0.0)
    for name in (CAMPAIGN, ASSET, LOBBY, CANTEEN, "一楼"):
        assert name not in r.text
    # Naming our screen does not reveal it either.
    r = client.get(f"/reports?since=2026-01-03&until=2026-01-05&screen_id={made.lobby_id}")
    assert page_totals(r.text) == (0, 0.0)
    download = client.get(f"/reports/plays.csv?since=2026-01-03&screen_id={made.lobby_id}")
    assert csv_totals(download.data)[:2] == (0, 0)
    # A signed-out visitor is sent to sign in, the CSV included.
    client.post("/logout", data={"csrf_token": sign_in(client, "admin@other.test")})
    assert client.get("/reports/plays.csv").status_code == 302


def test_a_long_report_shows_its_first_rows_and_all_the_totals(
    client: FlaskClient,
    session: Session,
    world: World,
    clock: SettableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record(client, session, world, clock)
    monkeypatch.setattr(pages, "MAX_SHOWN", 2)
    sign_in(client, "viewer@province.test")
    r = client.get("/reports?since=2026-01-03&until=2026-01-05&group_by=day&group_by=screen")
    assert r.status_code == 200 and 'id="rows-cut"' in r.text
    assert r.text.split("<tbody>")[1].split("</tbody>")[0].count("<tr>") == 2
    assert page_totals(r.text) == (6, 67.75)
