"""`scripts/screenshots`: a small fleet on a real server, photographed in a real Chromium."""

from __future__ import annotations

import io
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import requests
from PIL import Image, ImageDraw
from sqlalchemy import insert, select

from tests.console.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    drop_pg,
    seed,
    start_module_server,
)

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
LOCALES = {"en": "en", "zh": "zh-CN"}


def poster(colour: tuple[int, int, int], text: str) -> bytes:
    image = Image.new("RGB", (1920, 1080), colour)
    ImageDraw.Draw(image).rectangle((160, 400, 1760, 680), fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def populate(base: str, server) -> int:  # type: ignore[no-untyped-def]
    """Screens in two organisations, posters, a slogan, statuses and one screenshot."""
    from server.accounts.models import Organisation
    from server.screens.models import Screen
    from server.screens.screenshots import save_screenshot

    http = requests.Session()
    r = http.post(
        f"{base}/api/v1/session",
        json={"email": "admin@province.test", "password": PASSWORD},
        timeout=10,
    )
    http.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    assets = []
    for colour, title in (
        ((10, 86, 184), "Opening day poster"),
        ((17, 99, 41), "Campus Day"),
        ((164, 14, 38), "Finance Day"),
    ):
        r = http.post(
            f"{base}/api/v1/assets",
            files={"file": (f"{title}.png", poster(colour, title), "image/png")},
            data={"title": title, "organisation_id": "1"},
            timeout=60,
        )
        r.raise_for_status()
        assets.append(r.json())
    http.post(
        f"{base}/api/v1/assets/slogans",
        json={"text": "网络安全为人民，网络安全靠人民", "organisation_id": 1},
        timeout=60,
    ).raise_for_status()
    group = http.post(
        f"{base}/api/v1/groups", json={"organisation_id": 1, "name": "lobbies"}, timeout=10
    ).json()
    with server.session() as session:
        city = session.scalar(select(Organisation).where(Organisation.name == "City"))
        now = server.settings().clock_file and None
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        rows = []
        names = [
            "Main hall",
            "Library",
            "Station concourse",
            "Bank branch 12",
            "School gate",
            "Office lobby",
            "Canteen",
            "Platform 3",
        ]
        for i, name in enumerate(names):
            seen = None if i == 7 else now - timedelta(seconds=5 if i < 5 else 7200)
            rows.append(
                {
                    "organisation_id": 1 if i % 2 == 0 else city.id,
                    "name": name,
                    "timezone": "Asia/Shanghai",
                    "width": 1920,
                    "height": 1080,
                    "location": "",
                    "tags": [],
                    "command_seq": 0,
                    "created_at": now,
                    "last_seen_at": seen,
                    "status": {}
                    if seen is None
                    else {
                        "asset": assets[i % 3]["sha256"],
                        "playlist": "Cybersecurity Week",
                        "player_version": "0.1.0",
                        "disk_free_bytes": 12_400_000_000 - i * 10**9,
                        "cache_shortage_bytes": 0 if i != 3 else 48_000_000,
                        "errors": [] if i != 6 else ["download of 3f2a… failed: timed out"],
                    },
                }
            )
        session.execute(insert(Screen), rows)
        first = session.scalar(select(Screen).where(Screen.name == "Main hall"))
        shot = io.BytesIO(poster((10, 86, 184), ""))
        save_screenshot(session, server.store(), first.id, shot, "image/png", 10**8, now)
        from server.screens.models import GroupMember

        session.execute(insert(GroupMember), [{"group_id": group["id"], "screen_id": first.id}])
        return first.id


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        sys.exit("scripts/screenshots: needs /usr/bin/chromium (run scripts/system-deps)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = start_module_server(Path(folder))
        try:
            seed(server)
            screen_id = populate(server.base_url, server)
            pages = {
                "dashboard": "/fleet",
                "screen": f"/screens/{screen_id}",
                "media": "/media",
                "pairing": "/screens/pair",
            }
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                for lang, locale in LOCALES.items():
                    for size_name, (width, height) in SIZES.items():
                        context = browser.new_context(
                            locale=locale,
                            timezone_id="Asia/Shanghai",
                            viewport={"width": width, "height": height},
                            extra_http_headers={"Accept-Language": locale},
                        )
                        page = context.new_page()
                        page.goto(f"{server.base_url}/login")
                        page.fill("#email", "admin@province.test")
                        page.fill("#password", PASSWORD)
                        page.click("form button[type=submit]")
                        page.wait_for_url("**/fleet")
                        for name, path in pages.items():
                            page.goto(server.base_url + path)
                            page.wait_for_load_state("networkidle")
                            target = out / f"{name}-{size_name}-{lang}.png"
                            page.screenshot(path=str(target), full_page=size_name == "phone")
                            print(target)
                        context.close()
                browser.close()
        finally:
            server.stop()
            drop_pg(server)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images/console"))
