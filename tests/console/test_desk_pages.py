"""The approval desk, the calendars and "what plays where and why" in a real Chromium.

Province ▸ City; a city operator and a province approver; a "Bank branches" group with a
screen; a province campaign for all screens with a theme day (published), and a city
campaign for the group, submitted by the operator. The operator finds no Approve; the
approver sees the diff, approves, publishes and is told the effective instant first; the
fleet calendar shows the theme day; the preview says why the city campaign wins on the
bank branch (a group target beats "all"). Screenshots go to /tmp/console-desk/.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from PIL import Image

from tests.console.conftest import PASSWORD, Console, call, rest
from tests.integration.player.players import wait_for

pytestmark = pytest.mark.integration
SHOTS = Path("/tmp/console-desk")
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPERATOR = "op@city.test"
APPROVER = "approver@province.test"


def png(colour: tuple[int, int, int], text_colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (640, 360), colour)
    for x in range(40, 600):  # a band, so that posters are told apart at a glance
        for y in range(150, 210):
            image.putpixel((x, y), text_colour)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@dataclass
class DeskWorld:
    city_id: int
    province_campaign: int
    city_campaign: int
    branch_id: int
    group_id: int
    first: date  # the week's first day, in Shanghai
    theme_day: date


def _people_and_fleet(console: Console) -> tuple[int, int, int]:
    """The city operator, the province approver, the group and its screen (session helpers)."""
    from sqlalchemy import select

    from server.accounts.models import Organisation, Role
    from server.accounts.users import add_user
    from server.screens.models import Group, Screen

    now = datetime.now().astimezone()
    with console.server.session() as session:
        province = session.scalar(select(Organisation).where(Organisation.name == "Province"))
        city = session.scalar(select(Organisation).where(Organisation.name == "City"))
        assert province is not None and city is not None
        add_user(session, OPERATOR, PASSWORD, city, Role.OPERATOR, now)
        add_user(session, APPROVER, PASSWORD, province, Role.APPROVER, now)
        group = Group(organisation_id=city.id, name="Bank branches", created_at=now)
        session.add(group)
        session.flush()
        for name, groups in (("Branch 1", [group]), ("City hall lobby", [])):
            screen = Screen(
                organisation_id=city.id, name=name, timezone="Asia/Shanghai", width=1920,
                height=1080, tags=[], status={}, created_at=now,
            )  # fmt: skip
            screen.groups = groups
            session.add(screen)
        session.flush()
        branch = session.scalar(select(Screen.id).where(Screen.name == "Branch 1"))
        assert branch is not None
        return city.id, group.id, branch


def _playlist(http: requests.Session, console: Console, org: int, name: str, poster: bytes) -> int:
    asset = call(
        http, console, "POST", "/assets",
        files={"file": (f"{name}.png", poster, "image/png")},
        data={"organisation_id": str(org), "title": name},
    )  # fmt: skip
    body = {"name": name, "organisation_id": org,
            "items": [{"asset_id": asset["id"], "duration_ms": 10_000}]}  # fmt: skip
    return int(call(http, console, "POST", "/playlists", json=body)["id"])


@pytest.fixture(scope="module")
def world(console: Console) -> Iterator[DeskWorld]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    city_id, group_id, branch_id = _people_and_fleet(console)
    first = datetime.now(SHANGHAI).date()
    theme_day = first + timedelta(days=1)
    dates = {"timezone": "Asia/Shanghai", "start_date": first.isoformat(),
             "end_date": (first + timedelta(days=6)).isoformat()}  # fmt: skip
    admin = rest(console, console.admin)
    province = console.organisation_id
    daily = _playlist(admin, console, province, "Week posters", png((10, 86, 184), (255, 255, 255)))
    theme = _playlist(admin, console, province, "Finance Day", png((130, 80, 223), (255, 220, 0)))
    local = _playlist(admin, console, city_id, "Branch slogans", png((17, 99, 41), (255, 255, 255)))
    week = call(admin, console, "POST", "/campaigns",
                json={"name": "Cyber Week", "organisation_id": province, **dates})  # fmt: skip
    call(admin, console, "POST", f"/campaigns/{week['id']}/entries", json={"playlist_id": daily})
    call(admin, console, "POST", f"/campaigns/{week['id']}/entries",
         json={"playlist_id": theme, "first_date": theme_day.isoformat(),
               "last_date": theme_day.isoformat(), "priority": 1})  # fmt: skip
    call(admin, console, "POST", f"/campaigns/{week['id']}/publish")  # an approver's own draft
    operator = rest(console, OPERATOR)
    branch_week = call(operator, console, "POST", "/campaigns",
                       json={"name": "Branch week", "organisation_id": city_id,
                             "targets": {"groups": [group_id]}, **dates})  # fmt: skip
    call(operator, console, "POST", f"/campaigns/{branch_week['id']}/entries",
         json={"playlist_id": local, "priority": 1,
               "windows": [{"start": "09:00", "end": "17:00"}]})  # fmt: skip
    call(operator, console, "POST", f"/campaigns/{branch_week['id']}/submit")
    yield DeskWorld(city_id, week["id"], branch_week["id"], branch_id, group_id, first, theme_day)


def render_variant(console: Console, title: str, width: int, height: int) -> str:
    """Make the variant a width x height screen would download (as its first poll would)."""
    from sqlalchemy import select

    from server.assets.models import Asset
    from server.assets.variants import deliver
    from server.media.profiles import parse_profiles
    from server.storage import make_store

    settings = console.server.settings()
    with console.server.session() as session:
        asset = session.scalar(select(Asset).where(Asset.title == title))
        assert asset is not None
        delivered = deliver(
            session, make_store(settings), asset, width, height, "contain",
            profiles=parse_profiles(settings.screen_profiles), now=datetime.now().astimezone(),
        )  # fmt: skip
        return delivered.url


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_operator_who_submitted_sees_no_approve_and_a_forged_post_is_refused(
    console: Console, world: DeskWorld
) -> None:
    page = console.page("en")
    console.sign_in(page, OPERATOR)
    page.goto(console.url("/desk"))
    assert page.locator("#count-waiting").inner_text() == "0"
    assert page.get_by_role("button", name="Approve").count() == 0
    assert page.locator("#nav-desk-waiting").count() == 0
    mine = page.locator("#mine-table tr", has_text="Branch week")
    assert "waiting for an approver" in mine.inner_text()  # their own, on its way
    mine.get_by_role("link", name="Branch week").click()
    page.wait_for_url(f"**/campaigns/{world.city_campaign}")
    page.goto(console.url("/desk"))
    shot(page, "desk-operator-en")
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = page.request.post(
        console.url("/desk"),
        form={"csrf_token": csrf or "", "action": "approve",
              "campaign_id": str(world.city_campaign)},
    )  # fmt: skip
    assert forged.status == 403
    assert "Your role does not allow this here." in forged.text()
    assert "needs the approver role" in forged.text()
    viewer = console.page("en")
    console.sign_in(viewer, console.viewer)
    viewer.goto(console.url("/desk"))
    assert viewer.locator("main button, main textarea").count() == 0
    assert console.take_errors() == []


def test_the_approver_sees_the_diff_approves_then_publishes_at_the_announced_instant(
    console: Console, world: DeskWorld
) -> None:
    zh = console.page("zh-CN")
    console.sign_in(zh, APPROVER)
    assert zh.locator("#nav-desk-waiting").inner_text() == "1"
    zh.get_by_role("link", name=re.compile("审批台")).click()
    item = zh.locator(f"#c{world.city_campaign}")
    assert "Branch week" in item.inner_text() and "op@city.test" in item.inner_text()
    assert item.locator(".diff li").count() >= 3  # campaign, playlist, item, schedule[0]
    assert "playlist Branch slogans" in item.locator(".diff").inner_text()
    poster = item.locator(".posters img").first
    poster.wait_for()
    assert poster.evaluate("i => i.complete && i.naturalWidth > 0")
    assert "与已发布内容没有冲突。" in item.inner_text()
    shot(zh, "desk-waiting-zh")
    narrow = console.page("en", width=390, height=844)
    console.sign_in(narrow, APPROVER)
    narrow.goto(console.url("/desk"))
    assert narrow.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(narrow, "desk-waiting-390-en")
    item.get_by_role("button", name="批准").click()
    zh.wait_for_url(re.compile(r".*/desk\?done=approved.*"))
    assert "已批准，现在可以发布。" in zh.locator("#result").inner_text()
    assert zh.locator("#count-approved").inner_text() == "1"
    shot(zh, "desk-approved-zh")

    en = console.page("en")
    console.sign_in(en, APPROVER)
    en.goto(console.url("/desk"))
    approved = en.locator(f"#c{world.city_campaign}")
    approved.get_by_role("link", name="Publish…").click()
    confirm = en.locator(f"#effective-{world.city_campaign}")
    said = confirm.inner_text()
    found = re.search(r"takes effect at (\d\d:\d\d:\d\d) on (\d{4}-\d\d-\d\d)", said)
    assert found and "Asia/Shanghai" in said, said
    settings = console.server.settings()
    ahead = timedelta(seconds=settings.poll_interval_s + settings.publish_margin_s)
    announced = datetime.fromisoformat(f"{found[2]}T{found[1]}").replace(tzinfo=SHANGHAI)
    assert abs(announced - (datetime.now(SHANGHAI) + ahead)) < timedelta(seconds=30)
    shot(en, "desk-confirm-publish-en")
    en.get_by_role("button", name="Confirm: publish").click()
    en.wait_for_url(re.compile(r".*/desk\?done=published.*"))
    notice = en.locator("#result").inner_text()
    assert f"Published: takes effect at {found[1]} on {found[2]}" in notice or (
        "Published: takes effect at" in notice  # the publish came a second later
    ), notice
    assert en.locator("#count-waiting").inner_text() == "0"
    shot(en, "desk-published-en")
    assert console.take_errors() == []


def in_effect(console: Console, campaign_id: int) -> bool:
    """The campaign's publication has taken effect (pages show content in effect now)."""
    from server.campaigns.models import Campaign

    with console.server.session() as session:
        campaign = session.get(Campaign, campaign_id)
        at = campaign.effective_at if campaign is not None else None
    if at is None:
        return False
    return (at if at.tzinfo else at.replace(tzinfo=UTC)) <= datetime.now(UTC)


def test_the_fleet_calendar_shows_the_theme_day(console: Console, world: DeskWorld) -> None:
    wait_for(lambda: in_effect(console, world.city_campaign), "the city campaign in effect", 30)
    for locale, theme_word in (("en", "theme day"), ("zh-CN", "主题日")):
        page = console.page(locale)
        console.sign_in(page, APPROVER)
        page.goto(console.url("/calendar"))
        page.locator("#cal-org").select_option(str(world.city_id))
        page.locator("#cal-first").fill(world.first.isoformat())
        page.locator("#cal-days").fill("7")
        page.locator("form.filters button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/calendar\?.*days=7.*"))
        table = page.locator("#fleet-calendar")
        lobby = table.locator("tr", has_text="City hall lobby")
        column = (world.theme_day - world.first).days + 2  # the screen's <th> comes first
        theme_cell = lobby.locator(f"td:nth-child({column})")
        assert theme_word in theme_cell.inner_text()
        assert theme_cell.get_attribute("class") == "cal-theme"
        branch = table.locator("tr", has_text="Branch 1")
        assert "Branch slogans" in branch.locator(f"td:nth-child({column})").inner_text()
        shot(page, f"calendar-fleet-{locale}")
    week = console.page("en")
    console.sign_in(week, APPROVER)
    week.goto(console.url(f"/campaigns/{world.province_campaign}/calendar"))
    head = week.locator("#campaign-week thead").inner_text()
    assert world.theme_day.isoformat() in head and "theme day:" in head
    shot(week, "calendar-campaign-week-en")
    assert console.take_errors() == []


def test_the_preview_says_why_the_city_campaign_wins_on_the_bank_branch(
    console: Console, world: DeskWorld
) -> None:
    at = f"{world.theme_day.isoformat()}T10:00"
    wait_for(lambda: in_effect(console, world.city_campaign), "the city campaign in effect", 30)
    variant = render_variant(console, "Branch slogans", 1920, 1080)
    for locale, because in (
        ("en", "Specificity: a group target beats all screens."),
        ("zh-CN", "精确度：分组目标胜过全部屏幕。"),
    ):
        page = console.page(locale)
        console.sign_in(page, APPROVER)
        page.goto(console.url("/preview"))
        page.locator("#pv-screen").select_option(str(world.branch_id))
        page.locator("#pv-at").fill(at)
        page.locator("form.filters button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/preview\?.*screen_id=.*"))
        assert "Branch slogans" in page.locator("#at-instant").inner_text()
        assert because in page.locator("#why").inner_text()
        assert "Cyber Week" in page.locator("#beaten").inner_text()
        poster = page.locator("#poster")
        poster.wait_for()
        assert poster.evaluate("i => i.complete && i.naturalWidth > 0")
        assert poster.get_attribute("src") == variant  # the URL the screen downloads
        assert "1920x1080" in page.locator("#on-screen figcaption").inner_text()
        shot(page, f"preview-branch-{locale}")
    group = console.page("en", width=390, height=844)
    console.sign_in(group, APPROVER)
    group.goto(console.url(f"/preview?group_id={world.group_id}&at={at}"))
    assert "group target beats all screens" in group.locator("#group-screens").inner_text()
    shot(group, "preview-group-390-en")
    assert console.take_errors() == []


INTERFACE_TEXT = """(() => {
  const main = document.querySelector("main").cloneNode(true);
  main.querySelectorAll('[translate="no"]').forEach(e => e.remove());
  return main.innerText;
})()"""

WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective));
"""


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_desk_calendar_and_preview_page_at_390_px(
    console: Console, world: DeskWorld, locale: str
) -> None:
    from babel.messages.pofile import read_po

    from server.web.i18n import TRANSLATIONS

    with (TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        english = [m.id for m in read_po(f) if isinstance(m.id, str) and " " in m.id]
    at = f"{world.theme_day.isoformat()}T10:00"
    pages = (
        "/desk",
        "/calendar",
        f"/calendar?organisation_id={world.city_id}&first={world.first.isoformat()}&days=7",
        f"/calendar?group_id={world.group_id}",
        f"/campaigns/{world.province_campaign}/calendar",
        f"/campaigns/{world.city_campaign}/calendar",
        "/preview",
        f"/preview?screen_id={world.branch_id}&at={at}",
        f"/preview?group_id={world.group_id}&at={at}",
    )
    page = console.page(locale, width=390, height=844)
    page.context.add_init_script(WATCH_CSP)
    console.sign_in(page, APPROVER)
    for path in pages:
        response = page.goto(console.url(path))
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, path
        if locale == "zh-CN":  # interface text only: data (translate="no") stays as typed
            text = page.evaluate(INTERFACE_TEXT)
            assert [e for e in english if e in text] == [], path
    shot(page, f"preview-group-390-{locale}")
    assert console.take_errors() == []


def test_a_playlist_edited_after_publishing_shows_on_the_desk_with_why(
    console: Console, world: DeskWorld
) -> None:
    admin = rest(console, console.admin)
    playlists = call(admin, console, "GET", "/playlists", params={"name": "Finance Day"})
    (summary,) = [p for p in playlists["items"] if p["name"] == "Finance Day"]
    finance = call(admin, console, "GET", f"/playlists/{summary['id']}")
    items = [{"asset_id": i["asset_id"], "duration_ms": 20_000} for i in finance["items"]]
    call(admin, console, "PUT", f"/playlists/{finance['id']}/items", json={"items": items})
    page = console.page("zh-CN")
    console.sign_in(page, APPROVER)
    page.goto(console.url("/desk"))
    returned = page.locator("#returned-table")
    row = returned.locator("tr", has_text="Cyber Week")
    assert "审核后，其播放列表“Finance Day”被 admin@province.test 修改。" in row.inner_text()
    assert "草稿" in row.inner_text()
    shot(page, "desk-returned-zh")
    assert console.take_errors() == []
