"""Reports and the audit log in a real Chromium against a real server, in zh-CN and en:
plays recorded through the player's endpoint with Chinese names, filtered on the page, the
chart and totals seen, the CSV downloaded and added up to the same totals as the page and
the API; the audit log filtered by who, and a link followed to its object."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect

from tests.console.conftest import PASSWORD, Console

pytestmark = pytest.mark.integration

SHOTS = Path("/tmp/console-reports")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
CAMPAIGN, ASSET = "春节活动", "新年海报"
OLD_NAME, NEW_NAME, CANTEEN = "大堂屏幕", "一楼大堂", "食堂屏幕"
EDITOR = "editor@province.test"
SHA = "b" * 64


@dataclass
class Seeded:
    lobby_id: int
    plays: int
    seconds: float


def _z(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def _plays(n0: int, starts: list[tuple[datetime, float, str]]) -> list[dict[str, str]]:
    return [
        {
            "id": f"00000000-0000-4000-8000-{n0 + i:012d}",
            "asset": SHA,
            "playlist": "早间",
            "campaign": campaign,
            "start": _z(start),
            "end": _z(start + timedelta(seconds=seconds)),
        }
        for i, (start, seconds, campaign) in enumerate(starts)
    ]


def _seed(console: Console) -> tuple[int, dict[str, str]]:
    """Province in Shanghai's zone, a poster, two screens with device tokens (one made by the
    admin and renamed by an operator: audited before/after); their device tokens."""
    from sqlalchemy import select

    from server.accounts.models import Organisation, Role
    from server.accounts.users import add_user
    from server.assets.models import Asset, AssetKind
    from server.auth.actors import DEVICE_TOKEN_PREFIX, actor_by_email, new_token, token_digest
    from server.screens import groups, services
    from server.screens.models import Screen

    with console.server.session() as session:
        province = session.get(Organisation, console.organisation_id)
        assert province is not None
        province.timezone = "Asia/Shanghai"
        add_user(session, EDITOR, PASSWORD, province, Role.OPERATOR, NOW)
        session.add(
            Asset(
                organisation_id=province.id, kind=AssetKind.IMAGE, sha256=SHA,
                media_type="image/png", size=10, width=1, height=1, original_name="poster.png",
                title=ASSET, slogan=None, created_at=NOW,
            )
        )  # fmt: skip
        session.flush()
        admin = actor_by_email(session, console.admin)
        group = groups.create_group(session, admin, NOW, organisation_id=province.id, name="一楼")
        lobby = services.create_screen(
            session, admin, NOW, organisation_id=province.id, name=OLD_NAME,
            group_ids=[group.id],
        )  # fmt: skip
        canteen = services.create_screen(
            session, admin, NOW, organisation_id=province.id, name=CANTEEN
        )
        session.flush()
        editor = actor_by_email(session, EDITOR)
        services.update_screen(session, editor, NOW, lobby.id, {"name": NEW_NAME})
        tokens = {}
        for screen in (lobby, canteen):
            token = new_token(DEVICE_TOKEN_PREFIX)
            row = session.scalar(select(Screen).where(Screen.id == screen.id))
            assert row is not None
            row.device_token_hash = token_digest(token)
            tokens[screen.name] = token
        return lobby.id, tokens


@pytest.fixture(scope="module")
def seeded(console: Console) -> Iterator[Seeded]:
    console.server.set_clock(NOW)
    lobby_id, tokens = _seed(console)
    midnight = datetime(2026, 1, 4, 16, tzinfo=UTC)  # the 5th begins in Shanghai
    batches = {
        NEW_NAME: _plays(1, [
            (midnight - timedelta(days=1, seconds=10), 10, CAMPAIGN),
            (midnight - timedelta(seconds=10), 10.5, CAMPAIGN),  # the 4th's last seconds
            (midnight, 15, CAMPAIGN),
        ]),
        CANTEEN: _plays(10, [
            (midnight + timedelta(hours=1), 20, CAMPAIGN),
            (midnight - timedelta(hours=3), 7.25, ""),
        ]),
    }  # fmt: skip
    for name, events in batches.items():
        r = requests.post(
            console.url("/api/v1/player/plays"),
            json={"events": events},
            headers={"Authorization": f"Bearer {tokens[name]}"},
            timeout=10,
        )
        assert r.status_code == 200 and r.json()["accepted"] == len(events), r.text
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield Seeded(lobby_id, plays=4, seconds=55.5)  # the campaign's plays of the 3rd–5th


def errors_beyond(console: Console, status: int) -> list[str]:
    """The console's errors, but for Chromium's note of the refused page's own status."""
    note = f"the server responded with a status of {status}"
    return [e for e in console.take_errors() if note not in e]


def csv_totals(data: bytes) -> tuple[int, float, list[dict[str, str]]]:
    assert data.startswith(b"\xef\xbb\xbf"), "a byte-order mark for Excel"
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    return sum(int(r["plays"]) for r in rows), sum(float(r["seconds"]) for r in rows), rows


@pytest.mark.parametrize(
    ("locale", "show", "download"), [("zh-CN", "显示", "下载 CSV"), ("en", "Show", "Download CSV")]
)
def test_filter_see_the_chart_and_download_the_same_totals(
    console: Console, seeded: Seeded, locale: str, show: str, download: str
) -> None:
    page = console.page(locale)
    console.sign_in(page, console.admin)
    page.goto(console.url("/reports"))
    page.locator("#f-since").fill("2026-01-03")
    page.locator("#f-until").fill("2026-01-05")
    page.locator("#f-campaign").select_option(CAMPAIGN)
    for dimension in ("day", "campaign", "asset", "screen"):
        page.locator(f"input[name=group_by][value={dimension}]").check()
    page.get_by_role("button", name=show).click()
    page.wait_for_url("**/reports?*campaign=*")

    assert page.locator("#total-plays").inner_text() == str(seeded.plays)
    assert float(page.locator("#total-seconds").inner_text()) == seeded.seconds
    for name in (CAMPAIGN, ASSET, NEW_NAME, CANTEEN):
        expect(page.locator("#report")).to_contain_text(name)
    # The chart: one bar per day of each series, the tallest day the 5th (2 plays).
    for series in ("plays", "seconds"):
        expect(page.locator(f"#chart-{series} rect.col")).to_have_count(3)
    bars = page.locator("#chart-plays rect.col")
    assert [bars.nth(i).get_attribute("data-value") for i in range(3)] == ["1", "1", "2"]
    assert page.locator("#chart-plays").is_visible()
    page.screenshot(path=str(SHOTS / f"reports-{locale}.png"), full_page=True)

    with page.expect_download() as waiting:
        page.get_by_role("link", name=download).click()
    got = waiting.value
    assert got.suggested_filename == "plays-2026-01-03-2026-01-05.csv"
    plays, seconds, rows = csv_totals(Path(got.path()).read_bytes())
    assert (plays, seconds) == (seeded.plays, seeded.seconds)
    assert {r["screen_name"] for r in rows} == {NEW_NAME, CANTEEN}
    assert {r["campaign"] for r in rows} == {CAMPAIGN} and {r["asset_title"] for r in rows} == {
        ASSET
    }
    api = page.request.get(
        console.url("/api/v1/reports/plays"),
        params={
            "since": "2026-01-03", "until": "2026-01-05", "timezone": "Asia/Shanghai",
            "campaign": CAMPAIGN, "group_by": "day,campaign,asset,screen",
        },
    )  # fmt: skip
    assert api.status == 200 and (api.json()["plays"], api.json()["seconds"]) == (
        seeded.plays,
        seeded.seconds,
    )

    # The until day counts to its last second: the 4th alone holds event 2 (23:59:50).
    page.locator("#f-since").fill("2026-01-04")
    page.locator("#f-until").fill("2026-01-04")
    page.locator("#f-campaign").select_option("")
    page.get_by_role("button", name=show).click()
    page.wait_for_url("**/reports?*since=2026-01-04*")
    assert page.locator("#total-plays").inner_text() == "2"

    phone = console.page(locale, width=390, height=844)
    console.sign_in(phone, console.admin)
    for path in (page.url, console.url("/audit")):
        phone.goto(path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path
    phone.goto(page.url)
    phone.screenshot(path=str(SHOTS / f"reports-phone-{locale}.png"), full_page=True)

    bad = page.goto(console.url("/reports?since=2026-01-05&until=2026-01-01"))
    assert bad is not None and bad.status == 422
    expect(page.get_by_role("alert")).to_be_visible()
    page.screenshot(path=str(SHOTS / f"reports-refused-{locale}.png"))
    assert errors_beyond(console, 422) == []


@pytest.mark.parametrize(
    ("locale", "filter_button", "changed"),
    [("zh-CN", "筛选", "修改前"), ("en", "Filter", "Before")],
)
def test_audit_log_filter_by_who_and_follow_a_link(
    console: Console, seeded: Seeded, locale: str, filter_button: str, changed: str
) -> None:
    page = console.page(locale)
    console.sign_in(page, console.admin)
    page.goto(console.url("/audit"))
    expect(page.locator("#audit > tbody > tr")).not_to_have_count(0)
    page.screenshot(path=str(SHOTS / f"audit-{locale}.png"), full_page=True)
    page.locator("#f-who").fill(EDITOR)
    page.get_by_role("button", name=filter_button).click()
    page.wait_for_url("**/audit?*who=*")
    rows = page.locator("#audit > tbody > tr")
    expect(rows).to_have_count(1)
    assert EDITOR in rows.first.inner_text()
    expect(rows.first.locator(".audit-changes")).to_contain_text(changed)
    expect(rows.first.locator("td.before")).to_have_text(OLD_NAME)
    expect(rows.first.locator("td.after")).to_have_text(NEW_NAME)
    page.screenshot(path=str(SHOTS / f"audit-by-who-{locale}.png"), full_page=True)
    rows.first.locator("a.object-link").click()
    page.wait_for_url(f"**/screens/{seeded.lobby_id}")
    assert page.locator("h1").inner_text() == NEW_NAME

    viewer = console.page(locale)
    console.sign_in(viewer, console.viewer)
    expect(viewer.locator("a[href='/audit']")).to_have_count(0)
    refused = viewer.goto(console.url("/audit"))
    assert refused is not None and refused.status == 403
    assert errors_beyond(console, 403) == []
