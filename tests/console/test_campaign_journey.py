"""A city campaign's whole journey through the console, in a real Chromium, against a real
server and a real headless player whose frames an outside observer timestamps:

1. the city operator pairs the bank-branch screen into the "Bank branches" group;
2. uploads a campaign file with two mistakes, sees both with their lines, fixes the file,
   sees the plan and submits the campaign;
3. cannot approve it;
4. a province approver finds it on the desk with its diff, approves it and publishes it,
   told the instant it takes effect;
5. the screen changes to the city poster at that instant, not before (the observer's clock);
6. the fleet calendar shows the province's theme day;
7. "what plays where and why" says the city campaign wins on the bank branch because a group
   target beats "all".

The tests run in this order and share the module's server, player and observer.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from tests.console.conftest import PASSWORD, Console, call, pairing_code, rest
from tests.integration.player.players import PlayerProcess, wait_for
from tests.reliability.observer import Observer, Seen, observing

pytestmark = pytest.mark.integration
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPERATOR = "op@city.test"
APPROVER = "approver@province.test"
COLOURS = {  # solid posters, told apart by the colour at the centre of a frame
    "week": (20, 60, 200),
    "finance": (130, 40, 170),
    "branch": (20, 160, 60),
}
CITY_FILE = """campaign: Branch week
organisation: City
timezone: Asia/Shanghai
dates: {first} .. {last}
targets: {{groups: [Bank branches]}}
playlists:
  branch:
    - poster: posters/branch.png
      duration: {duration}
schedule:
  - play: {play}
    priority: 1
"""


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 180), colour).save(buffer, "PNG")
    return buffer.getvalue()


def poster_of(seen: Seen) -> str | None:
    """Which poster a frame shows: the nearest colour, if it is near at all (cards are not)."""
    if seen.colour is None:
        return None
    seen_colour = seen.colour

    def distance(colour: tuple[int, int, int]) -> int:
        return sum((a - b) ** 2 for a, b in zip(colour, seen_colour, strict=True))

    name = min(COLOURS, key=lambda n: distance(COLOURS[n]))
    return name if distance(COLOURS[name]) < 40**2 else None


@dataclass
class Journey:
    city_id: int
    group_id: int
    province_campaign: int
    first: date  # the campaigns' first day (today in Shanghai), also the theme day
    observer: Observer
    player: PlayerProcess
    branch_id: int = 0
    city_campaign: int = 0
    announced: datetime | None = None
    done: list[str] = field(default_factory=list)


def people_group_and_lobby(console: Console) -> tuple[int, int]:
    """The city operator, the province approver, the "Bank branches" group, and a lobby
    screen outside it (no player: the calendar shows it)."""
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
        session.add(
            Screen(
                organisation_id=city.id,
                name="City hall lobby",
                timezone="Asia/Shanghai",
                width=1920,
                height=1080,
                tags=[],
                status={},
                created_at=now,
            )  # fmt: skip
        )
        session.flush()
        return city.id, group.id


def province_week(console: Console, first: date) -> int:
    """The province's week for every screen, with Finance Day as today's theme day."""
    admin = rest(console, console.admin)
    province = console.organisation_id
    playlists = {}
    for name, title in (("week", "Week posters"), ("finance", "Finance Day")):
        asset = call(
            admin, console, "POST", "/assets",
            files={"file": (f"{name}.png", png(COLOURS[name]), "image/png")},
            data={"organisation_id": str(province), "title": title},
        )  # fmt: skip
        body = {"name": title, "organisation_id": province,
                "items": [{"asset_id": asset["id"], "duration_ms": 10_000}]}  # fmt: skip
        playlists[name] = call(admin, console, "POST", "/playlists", json=body)["id"]
    week = call(
        admin, console, "POST", "/campaigns",
        json={"name": "Cyber Week", "organisation_id": province, "timezone": "Asia/Shanghai",
              "start_date": first.isoformat(), "end_date": (first + timedelta(days=6)).isoformat()},
    )  # fmt: skip
    entries = f"/campaigns/{week['id']}/entries"
    call(admin, console, "POST", entries, json={"playlist_id": playlists["week"]})
    call(admin, console, "POST", entries,
         json={"playlist_id": playlists["finance"], "first_date": first.isoformat(),
               "last_date": first.isoformat(), "priority": 1})  # fmt: skip
    call(admin, console, "POST", f"/campaigns/{week['id']}/publish")
    return int(week["id"])


@pytest.fixture(scope="module")
def journey(console: Console, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    city_id, group_id = people_group_and_lobby(console)
    first = datetime.now(SHANGHAI).date()
    province_campaign = province_week(console, first)
    player = console.start_player("branch", size=(320, 180))
    out = tmp_path_factory.mktemp("observed") / "frames.tsv"
    with observing(out, {"branch": player.data_dir / "frames"}) as observer:
        yield Journey(city_id, group_id, province_campaign, first, observer, player)


def needs(journey: Journey, *steps: str) -> None:
    """Skip a step whose earlier steps did not pass (their failure is the one to read)."""
    missing = [s for s in steps if s not in journey.done]
    if missing:
        pytest.skip(f"builds on {', '.join(missing)}, which did not pass")


def posters_seen(journey: Journey) -> list[tuple[datetime, str | None]]:
    return [(s.at, poster_of(s)) for s in journey.observer.seen("branch")]


def test_1_the_operator_pairs_the_bank_branch_screen(console: Console, journey: Journey) -> None:
    code = wait_for(
        lambda: pairing_code(console, "console-branch"), "a pairing code", 30, journey.player.log
    )
    page = console.page("zh-CN")
    console.sign_in(page, OPERATOR)
    page.goto(console.url("/screens/pair"))
    page.locator("#p-code").fill(code)
    page.locator("#p-org").select_option(str(journey.city_id))
    page.locator("#p-name").fill("Branch 1")
    page.locator("#p-groups").select_option(str(journey.group_id))
    page.locator("#p-zone").fill("Asia/Shanghai")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/screens/\d+\?paired=1"))
    journey.branch_id = int(page.url.split("/screens/")[1].split("?")[0])
    # Today is the province's theme day: the branch shows Finance Day until the city's
    # campaign is published.
    wait_for(
        lambda: any(p == "finance" for _, p in posters_seen(journey)),
        "the theme day's poster on the branch screen",
        60,
        journey.player.log,
    )
    assert console.take_errors() == []
    journey.done.append("paired")


def test_2_a_file_with_two_mistakes_then_fixed_planned_and_submitted(
    console: Console, journey: Journey
) -> None:
    needs(journey, "paired")
    last = journey.first + timedelta(days=6)
    page = console.page("zh-CN")
    console.sign_in(page, OPERATOR)
    page.goto(console.url("/campaigns/upload"))

    def upload(duration: str, play: str) -> None:
        text = CITY_FILE.format(first=journey.first, last=last, duration=duration, play=play)
        page.set_input_files(
            "#u-file",
            {"name": "branch.yaml", "mimeType": "application/yaml", "buffer": text.encode()},
        )
        page.set_input_files(
            "#u-posters",
            [{"name": "branch.png", "mimeType": "image/png", "buffer": png(COLOURS["branch"])}],
        )
        page.locator("#check").click()

    upload("10 parsecs", "nowhere")
    page.locator("#problem-list").wait_for()
    problems = page.locator("#problem-list li").all_inner_texts()
    assert len(problems) == 2, problems
    marked = page.locator("#file-lines li.bad")
    assert [marked.nth(i).get_attribute("id") for i in range(marked.count())] == [
        "line-9",
        "line-11",
    ]
    assert "parsecs" in page.locator("#line-9").inner_text()
    assert "nowhere" in page.locator("#line-11").inner_text()

    upload("10s", "branch")
    page.locator("#plan-changes").wait_for()
    assert "branch" in page.locator("#plan-changes").inner_text()
    page.locator("#apply").click()
    page.wait_for_url("**/campaigns/*?done=applied")
    journey.city_campaign = int(page.url.split("/campaigns/")[1].split("?")[0])
    page.get_by_role("button", name="提交审批").click()
    page.wait_for_url("**?done=submitted")
    assert "已提交" in page.locator(".facts").inner_text()
    errors = console.take_errors()  # Chromium logs the refused file's 422, nothing else
    assert all("422" in e for e in errors) and len(errors) <= 1, errors
    journey.done.append("submitted")


def test_3_the_operator_cannot_approve_it(console: Console, journey: Journey) -> None:
    needs(journey, "submitted")
    page = console.page("en")
    console.sign_in(page, OPERATOR)
    page.goto(console.url(f"/campaigns/{journey.city_campaign}"))
    assert page.get_by_role("button", name="Approve").count() == 0
    page.goto(console.url("/desk"))
    assert page.get_by_role("button", name="Approve").count() == 0
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    forged = page.request.post(
        console.url("/desk"),
        form={"csrf_token": csrf, "action": "approve", "campaign_id": str(journey.city_campaign)},
    )
    assert forged.status == 403
    from server.campaigns.models import Campaign

    with console.server.session() as session:
        campaign = session.get(Campaign, journey.city_campaign)
        assert campaign is not None and campaign.status.value == "submitted"
    assert console.take_errors() == []


def test_4_the_province_approver_approves_on_the_desk_and_publishes(
    console: Console, journey: Journey
) -> None:
    needs(journey, "submitted")
    page = console.page("en")
    console.sign_in(page, APPROVER)
    page.goto(console.url("/desk"))
    item = page.locator(f"#c{journey.city_campaign}")
    assert "Branch week" in item.inner_text() and OPERATOR in item.inner_text()
    assert "playlist branch" in item.locator(".diff").inner_text()
    shown = [p for _, p in posters_seen(journey) if p is not None]
    assert shown[-1] == "finance"  # nothing has changed on screen yet
    item.get_by_role("button", name="Approve").click()
    page.wait_for_url(re.compile(r".*/desk\?done=approved.*"))
    page.locator(f"#c{journey.city_campaign}").get_by_role("link", name="Publish…").click()
    page.get_by_role("button", name="Confirm: publish").click()
    page.wait_for_url(re.compile(r".*/desk\?done=published.*"))
    said = page.locator("#result").inner_text()
    found = re.search(r"takes effect at (\d\d:\d\d:\d\d) on (\d{4}-\d\d-\d\d)", said)
    assert found, said
    journey.announced = datetime.fromisoformat(f"{found[2]}T{found[1]}").replace(tzinfo=SHANGHAI)
    assert console.take_errors() == []
    journey.done.append("published")


def test_5_the_screen_shows_the_city_poster_from_the_announced_instant(
    console: Console, journey: Journey
) -> None:
    needs(journey, "published")
    announced = journey.announced
    assert announced is not None
    first_branch = wait_for(
        lambda: next((at for at, p in posters_seen(journey) if p == "branch"), None),
        "the city poster on the branch screen",
        60,
        journey.player.log,
    )
    # The page shows the instant to the second (rounded down): the change comes within that
    # second, as seen by the observer's own clock, give or take a frame drawn late on a
    # machine busy with other tests.
    assert announced - timedelta(milliseconds=200) <= first_branch, (first_branch, announced)
    assert first_branch <= announced + timedelta(seconds=2, milliseconds=500), (
        first_branch,
        announced,
    )
    before = [p for at, p in posters_seen(journey) if at < announced and p is not None]
    assert "branch" not in before and before[-1] == "finance"


def test_6_the_fleet_calendar_shows_the_theme_day(console: Console, journey: Journey) -> None:
    needs(journey, "paired")
    for locale, theme_word in (("en", "theme day"), ("zh-CN", "主题日")):
        page = console.page(locale)
        console.sign_in(page, APPROVER)
        page.goto(
            console.url(f"/calendar?organisation_id={journey.city_id}&first={journey.first}&days=7")
        )
        table = page.locator("#fleet-calendar")
        lobby = table.locator("tr", has_text="City hall lobby").locator("td").first
        assert theme_word in lobby.inner_text()
        assert lobby.get_attribute("class") == "cal-theme"
        assert "Finance Day" in lobby.inner_text()
    assert console.take_errors() == []


def test_7_the_preview_says_why_the_city_campaign_wins_on_the_branch(
    console: Console, journey: Journey
) -> None:
    needs(journey, "published")
    at = datetime.now(UTC).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    for locale, because in (
        ("en", "Specificity: a group target beats all screens."),
        ("zh-CN", "精确度：分组目标胜过全部屏幕。"),
    ):
        page = console.page(locale)
        console.sign_in(page, APPROVER)
        page.goto(console.url("/preview"))
        page.locator("#pv-screen").select_option(str(journey.branch_id))
        page.locator("#pv-at").fill(at)
        page.locator("form.filters button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/preview\?.*screen_id=.*"))
        assert "branch" in page.locator("#at-instant").inner_text()
        assert because in page.locator("#why").inner_text()
        assert "Cyber Week" in page.locator("#beaten").inner_text()
    assert console.take_errors() == []
