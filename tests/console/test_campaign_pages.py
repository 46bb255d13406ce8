"""The campaign pages in a real Chromium against a real server: a campaign file with two
mistakes is shown with both lines highlighted; the fixed file is planned, applied as a draft
and submitted; a playlist is reordered by dragging and the new order is saved (and, the
campaign having been submitted, it is a draft again and its page says why). In Chinese and
in English; screenshots go to /tmp/console-campaigns/."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import select

from tests.console.conftest import Console

pytestmark = pytest.mark.integration
SHOTS = Path("/tmp/console-campaigns")
COLOURS = {"red": (200, 30, 30), "green": (30, 160, 60), "blue": (30, 60, 200)}
FILE = """campaign: {name}
organisation: Province
timezone: Asia/Shanghai
dates: {start} .. {end}
playlists:
  week:
    - poster: posters/red.png
      duration: 10s
    - poster: posters/green.png
      duration: {duration}
    - poster: posters/blue.png
      duration: 10s
schedule:
  - play: {play}
    between: "08:00-18:00"
"""
WORDS = {
    "en": {"upload": "Upload a campaign file", "check": "Check", "apply": "Apply as draft",
           "submit": "Submit for approval", "submitted": "submitted", "save": "Save playlist",
           "draft": "Back to draft", "edit": "Edit"},
    "zh-CN": {"upload": "上传活动文件", "check": "检查", "apply": "作为草稿应用",
              "submit": "提交审批", "submitted": "已提交", "save": "保存播放列表",
              "draft": "已退回草稿", "edit": "编辑"},
}  # fmt: skip


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 180), colour).save(buffer, "PNG")
    return buffer.getvalue()


def campaign_file(name: str, *, broken: bool) -> bytes:
    start = date.today()
    return FILE.format(
        name=name,
        start=start.isoformat(),
        end=(start + timedelta(days=6)).isoformat(),
        duration="10 parsecs" if broken else "10s",
        play="nowhere" if broken else "week",
    ).encode()


def posters() -> list[dict[str, Any]]:
    return [
        {"name": f"{n}.png", "mimeType": "image/png", "buffer": png(c)} for n, c in COLOURS.items()
    ]


def titles(page: Any) -> list[str]:
    """The editor's first playlist, item by item, as the page shows it now."""
    found = page.locator("form[data-reorder] li[data-row] .item-title").all_inner_texts()
    return [t.strip().removesuffix(".png") for t in found]


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def order(console: Console, campaign_id: int) -> list[str]:
    """The playlist's posters by file name, as the server holds them."""
    from server.assets.models import Asset
    from server.playlists.models import Playlist, PlaylistItem

    with console.server.session() as session:
        rows = session.execute(
            select(Asset.original_name)
            .join(PlaylistItem, PlaylistItem.asset_id == Asset.id)
            .join(Playlist, Playlist.id == PlaylistItem.playlist_id)
            .where(Playlist.campaign_id == campaign_id)
            .order_by(PlaylistItem.position)
        ).all()
    return [str(r[0]) for r in rows]


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_upload_check_plan_apply_submit_then_reorder_by_dragging(
    console: Console, locale: str
) -> None:
    words = WORDS[locale]
    name = f"Week {locale}"
    page = console.page(locale)
    console.sign_in(page, console.admin)
    page.goto(console.url("/campaigns"))
    page.get_by_role("link", name=words["upload"]).click()
    page.wait_for_url("**/campaigns/upload")

    # Step 1: a file with two mistakes; both are listed, and both lines are highlighted.
    page.set_input_files(
        "#u-file",
        {"name": "week.yaml", "mimeType": "application/yaml",
         "buffer": campaign_file(name, broken=True)},
    )  # fmt: skip
    page.set_input_files("#u-posters", posters())
    page.locator("#check").click()
    page.locator("#problem-list").wait_for()
    problems = page.locator("#problem-list li")
    assert problems.count() == 2, problems.all_inner_texts()
    assert page.locator("#file-lines li.bad").count() == 2
    bad_lines = [page.locator("#file-lines li.bad").nth(i).get_attribute("id") for i in (0, 1)]
    assert bad_lines == ["line-10", "line-14"]
    assert "parsecs" in page.locator("#line-10").inner_text()
    problems.nth(1).locator("a").click()
    assert page.url.endswith("#line-14")
    shot(page, f"upload-problems-{locale}")

    # Step 2: the fixed file is planned against what is live.
    page.set_input_files(
        "#u-file",
        {"name": "week.yaml", "mimeType": "application/yaml",
         "buffer": campaign_file(name, broken=False)},
    )  # fmt: skip
    page.set_input_files("#u-posters", posters())
    page.locator("#check").click()
    page.locator("#plan-changes").wait_for()
    assert "playlist week item 3" in page.locator("#plan-changes").inner_text()
    shot(page, f"upload-plan-{locale}")

    # Step 3: apply as draft, then submit from the campaign's page.
    page.locator("#apply").click()
    page.wait_for_url("**/campaigns/*?done=applied")
    campaign_id = int(page.url.split("/campaigns/")[1].split("?")[0])
    assert order(console, campaign_id) == ["red.png", "green.png", "blue.png"]
    page.get_by_role("button", name=words["submit"]).click()
    page.wait_for_url("**?done=submitted")
    assert words["submitted"] in page.locator(".facts").inner_text()
    shot(page, f"campaign-submitted-{locale}")

    # Reorder by dragging: blue onto red's place; the new order is saved.
    page.get_by_role("link", name=words["edit"], exact=True).click()
    page.wait_for_url(f"**/campaigns/{campaign_id}/edit")
    rows = page.locator("form[data-reorder] li[data-row]")
    rows.nth(2).drag_to(rows.nth(0), target_position={"x": 20, "y": 5})
    assert titles(page) == ["blue", "red", "green"]
    assert page.locator("form[data-reorder] .moved").inner_text()
    shot(page, f"editor-dragged-{locale}")
    page.get_by_role("button", name=words["save"]).click()
    page.wait_for_url(f"**/campaigns/{campaign_id}/edit?saved=playlist-*")
    assert order(console, campaign_id) == ["blue.png", "red.png", "green.png"]
    assert titles(page) == ["blue", "red", "green"]
    assert page.locator("form[data-reorder] .moved .saved").is_visible()
    page.goto(console.url(f"/campaigns/{campaign_id}"))
    banner = page.locator("#why-draft")
    assert words["draft"] in banner.inner_text() and "“week”" in banner.inner_text()
    shot(page, f"campaign-back-to-draft-{locale}")

    # Keyboard: the Up button of the last item moves it up, focus stays on it.
    page.goto(console.url(f"/campaigns/{campaign_id}/edit"))
    up = page.locator("form[data-reorder] li[data-row]").nth(2).locator("button[data-move=up]")
    up.focus()
    page.keyboard.press("Enter")
    assert titles(page) == ["blue", "green", "red"]
    focused = "(e => [e.dataset.move, e.closest('li').innerText])(document.activeElement)"
    move, row_text = page.evaluate(focused)
    assert move == "up" and "green" in row_text  # the focus moved with the item
    page.get_by_role("button", name=words["save"]).click()
    page.wait_for_url(f"**/campaigns/{campaign_id}/edit?saved=playlist-*")
    assert order(console, campaign_id) == ["blue.png", "green.png", "red.png"]

    page.locator("#entry-new summary").click()
    shot(page, f"editor-entry-form-{locale}")
    page.goto(console.url("/campaigns"))
    assert page.locator("#campaigns a", has_text=name).count() == 1
    shot(page, f"list-{locale}")

    # Chromium logs the 422 of the refused file; nothing else.
    errors = console.take_errors()
    assert all("422" in e for e in errors) and len(errors) <= 1, errors


def test_a_viewer_finds_no_write_control_on_the_campaign_pages(console: Console) -> None:
    page = console.page("en")
    console.sign_in(page, console.viewer)
    page.goto(console.url("/campaigns"))
    links = page.locator("#campaigns a")
    assert links.count() >= 1
    campaign = links.first.get_attribute("href")
    for path in ("/campaigns", campaign, f"{campaign}/edit"):
        page.goto(console.url(str(path)))
        assert page.locator("main form[method=post]").count() == 0, path
    assert page.get_by_role("link", name="Upload a campaign file").count() == 0
    shot(page, "campaign-viewer-en")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = requests.post(console.url(f"{campaign}/submit"), cookies=cookies, timeout=10)
    assert forged.status_code == 403
    assert console.take_errors() == []


def test_the_campaign_pages_at_phone_width(console: Console) -> None:
    page = console.page("zh-CN", width=390, height=844)
    console.sign_in(page, console.admin)
    page.goto(console.url("/campaigns"))
    campaign = page.locator("#campaigns a").first.get_attribute("href")
    pages = (("/campaigns", "list"), (campaign, "campaign"), (f"{campaign}/edit", "edit"))
    for path, name in pages:
        page.goto(console.url(str(path)))
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 390, (path, wide)
        shot(page, f"phone-{name}-zh-CN")
    assert console.take_errors() == []
