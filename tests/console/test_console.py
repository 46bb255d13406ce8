"""The console in a real Chromium against a real server: signing in in both languages,
pairing a real player and watching it come online, screenshots, uploads, slogans, and a
viewer who can change nothing."""

from __future__ import annotations

import base64
import io
import re

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from tests.console.conftest import Console, pairing_code
from tests.integration.player.players import wait_for

pytestmark = pytest.mark.integration


def png_bytes(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 180), colour).save(buffer, "PNG")
    return buffer.getvalue()


def loaded(page, selector: str) -> bool:
    """The image at `selector` has arrived and decoded (the page's CSP forbids
    wait_for_function's eval, so the test polls)."""
    return bool(page.evaluate("s => (document.querySelector(s) || {}).naturalWidth > 0", selector))


def drop_files(page, selector: str, files: list[tuple[str, str, bytes]]) -> None:
    """Drag files from outside the browser onto `selector` (a real drop event)."""
    payload = [(name, mime, base64.b64encode(data).decode()) for name, mime, data in files]
    page.evaluate(
        """([selector, files]) => {
            const transfer = new DataTransfer();
            for (const [name, type, b64] of files) {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                transfer.items.add(new File([bytes], name, {type}));
            }
            const target = document.querySelector(selector);
            for (const type of ["dragenter", "dragover", "drop"]) {
                target.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true}));
            }
        }""",
        [selector, payload],
    )


def test_sign_in_in_chinese_and_in_english(console: Console) -> None:
    zh = console.page("zh-CN")
    console.sign_in(zh, console.admin)
    assert zh.locator("html").get_attribute("lang") == "zh-CN"
    assert zh.locator("h1").first.inner_text().startswith("屏幕总览")
    assert zh.get_by_role("link", name="素材").is_visible()
    en = console.page("en")
    console.sign_in(en, console.admin)
    assert en.locator("html").get_attribute("lang") == "en"
    assert en.locator("h1").first.inner_text().startswith("Fleet")
    en.get_by_role("button", name="Sign out").click()
    en.wait_for_url("**/login")
    en.goto(console.url("/fleet"))
    assert "/login" in en.url
    assert console.take_errors() == []


def test_pair_a_player_by_its_code_and_see_it_online_then_take_a_screenshot(
    console: Console,
) -> None:
    player = console.start_player("lobby")
    code = wait_for(
        lambda: pairing_code(console, "console-lobby"), "a pairing code", 30, player.log
    )
    page = console.page("en")
    console.sign_in(page, console.admin)
    dashboard = console.page("en")
    console.sign_in(dashboard, console.admin)
    before = int(dashboard.locator("#count-online").inner_text())

    page.goto(console.url("/screens/pair"))
    typed = f" {code[:3].lower()}-{code[3:].lower()} "  # as someone reads it off a screen
    page.get_by_label("Code shown on the screen").fill(typed)
    page.get_by_label("Name (empty: the name the player gives)").fill("Lobby screen")
    page.get_by_label("Time zone (empty: the organisation's)").fill("Asia/Shanghai")
    page.get_by_role("button", name="Pair").click()
    page.wait_for_url(re.compile(r".*/screens/\d+\?paired=1"))
    assert page.locator("h1").inner_text() == "Lobby screen"

    # The open dashboard refreshes by itself: no reload, the count and the row change.
    expect(dashboard.locator("#count-online")).to_have_text(str(before + 1), timeout=30_000)
    row = dashboard.locator("#fleet tbody tr", has_text="Lobby screen")
    assert row.locator(".state-online").is_visible()
    assert dashboard.evaluate("performance.getEntriesByType('navigation').length") == 1

    assert page.locator("#no-screenshot").is_visible()
    page.get_by_role("button", name="Take a new screenshot").click()
    page.locator("#screenshot").wait_for(state="visible", timeout=30_000)
    assert page.locator("#screenshot-time").inner_text().strip() != ""
    assert wait_for(lambda: loaded(page, "#screenshot"), "the screenshot", 20)
    page.locator("#commands", has_text="done").wait_for(timeout=30_000)
    assert console.take_errors() == []


def test_upload_by_drag_and_drop_and_a_pdf_is_refused_with_the_reason(
    console: Console,
) -> None:
    page = console.page("en")
    console.sign_in(page, console.admin)
    page.goto(console.url("/media"))
    drop_files(
        page,
        "#dropzone",
        [
            ("poster.png", "image/png", png_bytes()),
            (
                "leaflet.pdf",
                "application/pdf",
                b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
            ),
        ],
    )
    page.locator("#up-list li", has_text="poster.png").locator(".ok").wait_for()
    refused = page.locator("#up-list li", has_text="leaflet.pdf").locator(".bad")
    refused.wait_for()
    assert "PDF" in refused.inner_text()
    assert page.locator("#up-list progress").first.get_attribute("value") == "100"
    page.locator("#grid .title", has_text="poster").wait_for()
    # Chromium logs every 4xx answer; the refused PDF is the only one.
    errors = console.take_errors()
    assert len(errors) == 1 and "415" in errors[0], errors


def test_a_chinese_slogan_and_its_preview(console: Console) -> None:
    page = console.page("zh-CN")
    console.sign_in(page, console.admin)
    page.goto(console.url("/media/slogan"))
    page.get_by_label("文字（中文或英文）").fill("网络安全为人民，网络安全靠人民")
    preview = page.locator("#slogan-preview")
    preview.wait_for()
    assert wait_for(lambda: loaded(page, "#slogan-preview"), "the preview picture", 20)
    # A character no font draws is refused, named.
    page.get_by_label("文字（中文或英文）").fill("安全\U00010000")
    page.locator("#preview .refused").wait_for()
    page.get_by_label("文字（中文或英文）").fill("网络安全为人民")
    preview.wait_for()
    page.get_by_role("button", name="保存标语").click()
    page.wait_for_url("**/media")
    assert page.locator("#grid .title", has_text="网络安全为人民").is_visible()
    assert console.take_errors() == []


def test_a_viewer_finds_no_write_control_and_a_forged_post_is_refused(console: Console) -> None:
    page = console.page("en")
    console.sign_in(page, console.viewer)
    for path in ("/fleet", "/groups", "/media", "/me"):
        page.goto(console.url(path))
        main = page.locator("main")
        # /me has the viewer's own settings and tokens; nowhere else a form that changes data.
        posts = main.locator("form[method=post]")
        if path != "/me":
            assert posts.count() == 0, path
    page.goto(console.url("/screens/pair"))
    assert page.locator("h1").inner_text() == "Not allowed"
    # A forged form post with the session cookie but no CSRF token: 403.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = requests.post(
        console.url("/groups"),
        data={"action": "create", "organisation_id": console.organisation_id, "name": "x"},
        cookies=cookies,
        timeout=10,
    )
    assert forged.status_code == 403
    # With the token, the viewer's role still refuses it.
    token = page.locator("body").get_attribute("hx-headers")
    assert token and "X-CSRF-Token" in token
    # Chromium logs the 403 of the pairing page; nothing else.
    errors = console.take_errors()
    assert len(errors) == 1 and "403" in errors[0], errors


SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
ATTR = '"onmouseover="window.__xss=3'
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective));
"""


def api_session(console: Console) -> requests.Session:
    """The admin's REST session: cookie plus the CSRF header for writes."""
    http = requests.Session()
    r = http.post(
        console.url("/api/v1/session"),
        json={"email": console.admin, "password": "console-password-1"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    http.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return http


def hostile_device(console: Console, http: requests.Session, name: str) -> tuple[int, str]:
    """A 'player' that enrols with a hostile name and reports a hostile status."""
    r = http.post(
        console.url(f"/api/v1/organisations/{console.organisation_id}/enrolment-tokens"),
        json={"expires_at": "2100-01-01T00:00:00Z", "max_uses": 1, "name": ATTR},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    r = requests.post(
        console.url("/api/v1/player/hello"),
        json={"hardware_id": "hostile-1", "width": 320, "height": 180, "name": name,
              "enrol_token": r.json()["token"]},
        timeout=10,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    screen_id, token = r.json()["screen_id"], r.json()["device_token"]
    status = {
        "asset": None, "playlist": SCRIPT, "player_version": ATTR[:40],
        "disk_free_bytes": 1, "cache_shortage_bytes": 2, "errors": [SCRIPT, IMG, ATTR],
    }  # fmt: skip
    import json

    r = requests.get(
        console.url("/api/v1/player/manifest"),
        headers={"Authorization": f"Bearer {token}", "Signage-Status": json.dumps(status)},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return screen_id, token


def test_hostile_strings_render_as_text_everywhere_under_a_strict_csp(console: Console) -> None:
    http = api_session(console)
    name = f"{SCRIPT}{ATTR}"[:200]
    group = http.post(
        console.url("/api/v1/groups"),
        json={"organisation_id": console.organisation_id, "name": IMG},
        timeout=10,
    )
    assert group.status_code == 201, group.text
    upload = http.post(
        console.url("/api/v1/assets"),
        files={"file": (f"{IMG}.png", png_bytes((1, 2, 3)), "image/png")},
        data={"organisation_id": str(console.organisation_id), "title": SCRIPT + ATTR},
        timeout=30,
    )
    assert upload.status_code == 201, upload.text
    screen_id, _token = hostile_device(console, http, name)
    http.patch(
        console.url(f"/api/v1/screens/{screen_id}"),
        json={"group_ids": [group.json()["id"]]},
        timeout=10,
    ).raise_for_status()

    page = console.page("en")
    page.context.add_init_script(WATCH_CSP)
    console.sign_in(page, console.admin)
    seen = {}
    for path in (
        "/fleet?q=script",
        f"/screens/{screen_id}",
        "/groups",
        "/media",
        "/enrolment-tokens",
    ):
        response = page.goto(console.url(path))
        assert response is not None and response.ok, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        page.wait_for_timeout(300)  # let any injected handler (there must be none) run
        page.evaluate(
            "document.querySelectorAll('body *').forEach(e => e.dispatchEvent("
            "new MouseEvent('mouseover', {bubbles: true})))"
        )
        text = page.locator("main").inner_text()
        seen[path] = text
        assert page.evaluate("window.__xss") is None, path
        assert page.evaluate("document.querySelectorAll('[onmouseover],[onerror]').length") == 0
        assert page.evaluate("window.__csp") == [], path
    assert "<script>window.__xss=1</script>" in seen["/fleet?q=script"]
    assert '"onmouseover="window.__xss=3' in seen[f"/screens/{screen_id}"]
    assert IMG in seen["/groups"] and IMG in seen[f"/screens/{screen_id}"]
    assert SCRIPT + ATTR in seen["/media"]
    assert ATTR in seen["/enrolment-tokens"]
    assert console.take_errors() == []


ALL_PAGES = (
    "/fleet", "/fleet?state=online&sort=-last_seen_at", "/screens/{screen}", "/screens/pair",
    "/enrolment-tokens", "/groups", "/media", "/media/slogan", "/people", "/me",
)  # fmt: skip


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_page_in_both_languages_without_a_console_error(
    console: Console, locale: str
) -> None:
    from babel.messages.pofile import read_po

    from server.web.i18n import TRANSLATIONS

    with (TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        english = [m.id for m in read_po(f) if isinstance(m.id, str) and " " in m.id]
    screen = api_session(console).post(
        console.url("/api/v1/screens"),
        json={"organisation_id": console.organisation_id, "name": f"Walk {locale}"},
        timeout=10,
    )
    assert screen.status_code == 201, screen.text
    page = console.page(locale, width=390, height=844)
    page.context.add_init_script(WATCH_CSP)
    console.sign_in(page, console.admin)
    for path in ALL_PAGES:
        path = path.format(screen=screen.json()["id"])
        response = page.goto(console.url(path))
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path
        # Nothing wider than a phone: no sideways scrolling of the page itself.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, path
        if locale == "zh-CN":
            text = page.locator("body").inner_text()
            assert [e for e in english if e in text] == [], path
    assert console.take_errors() == []
