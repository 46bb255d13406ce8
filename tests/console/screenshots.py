"""`scripts/screenshots`: a small fleet on a real server, photographed in a real Chromium.

The fleet has a published province campaign (a week of posters, Finance Day as a theme
day), a city campaign waiting on the approval desk, and a few days of plays, so that the
desk, the calendars, the preview and the reports have something to show."""

from __future__ import annotations

import io
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from PIL import Image, ImageDraw
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tests.console.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    drop_pg,
    seed,
    start_module_server,
)

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
OPERATOR = "op@city.test"
Json = dict[str, Any]
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
        add_plays(session, now, assets)
    campaigns(base, http, city.id, assets)
    return first.id


def campaigns(base: str, http: requests.Session, city_id: int, assets: list[Json]) -> None:
    """The province's week (published; tomorrow is Finance Day) and the city's week for its
    bank branches, submitted by a city operator and waiting on the desk."""
    today = date.today()
    dates = {"timezone": "Asia/Shanghai", "start_date": today.isoformat(),
             "end_date": (today + timedelta(days=6)).isoformat()}  # fmt: skip

    def call(session: requests.Session, path: str, body: Json) -> Json:
        r = session.post(f"{base}/api/v1{path}", json=body, timeout=30)
        r.raise_for_status()
        return r.json() if r.content else {}

    def playlist(session: requests.Session, org: int, name: str, asset: Json) -> int:
        body = {"name": name, "organisation_id": org,
                "items": [{"asset_id": asset["id"], "duration_ms": 10_000}]}  # fmt: skip
        return int(call(session, "/playlists", body)["id"])

    week = call(http, "/campaigns", {"name": "Cybersecurity Week", "organisation_id": 1, **dates})
    call(http, f"/campaigns/{week['id']}/entries",
         {"playlist_id": playlist(http, 1, "Week posters", assets[0])})  # fmt: skip
    theme = (today + timedelta(days=1)).isoformat()
    call(http, f"/campaigns/{week['id']}/entries",
         {"playlist_id": playlist(http, 1, "Finance Day", assets[2]), "first_date": theme,
          "last_date": theme, "priority": 1})  # fmt: skip
    call(http, f"/campaigns/{week['id']}/publish", {})

    operator = requests.Session()
    r = operator.post(f"{base}/api/v1/session",
                      json={"email": OPERATOR, "password": PASSWORD}, timeout=10)  # fmt: skip
    operator.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    branch = call(operator, "/campaigns", {"name": "Bank branch week", "organisation_id": city_id,
                                           **dates})  # fmt: skip
    call(operator, f"/campaigns/{branch['id']}/entries",
         {"playlist_id": playlist(operator, city_id, "Branch slogans", assets[1]),
          "priority": 1, "windows": [{"start": "09:00", "end": "17:00"}]})  # fmt: skip
    call(operator, f"/campaigns/{branch['id']}/submit", {})


def add_plays(session: Session, now: datetime, assets: list[Json]) -> None:
    """A week of proof of play: each screen plays the posters a few times a day."""
    from server.reports.models import PlayEvent
    from server.screens.models import Screen

    screens = session.execute(select(Screen.id, Screen.name, Screen.organisation_id)).all()
    rows = []
    for day in range(7):
        for n, (screen_id, name, org) in enumerate(screens):
            for k in range(2 + (day + n) % 4):
                asset = assets[(day + k) % len(assets)]
                start = now - timedelta(days=day, hours=k + 1, minutes=n)
                rows.append({
                    "event_id": f"e-{day}-{screen_id}-{k}", "screen_id": screen_id,
                    "screen_name": name, "organisation_id": org,
                    "asset_sha256": asset["sha256"], "asset_title": asset["title"],
                    "playlist": "Week posters", "campaign": "Cybersecurity Week",
                    "start": start, "end": start + timedelta(seconds=10),
                    "duration_ms": 10_000, "received_at": now,
                })  # fmt: skip
    session.execute(insert(PlayEvent), rows)


def city_operator(server) -> None:  # type: ignore[no-untyped-def]
    from server.accounts.models import Organisation, Role
    from server.accounts.users import add_user

    with server.session() as session:
        city = session.scalar(select(Organisation).where(Organisation.name == "City"))
        add_user(session, OPERATOR, PASSWORD, city, Role.OPERATOR, datetime.now(UTC))


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        sys.exit("scripts/screenshots: needs /usr/bin/chromium (run scripts/system-deps)")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        server = start_module_server(Path(folder))
        try:
            seed(server)
            city_operator(server)
            screen_id = populate(server.base_url, server)
            tomorrow = (date.today() + timedelta(days=1)).isoformat()
            pages = {
                "dashboard": "/fleet",
                "screen": f"/screens/{screen_id}",
                "media": "/media",
                "pairing": "/screens/pair",
                "campaigns": "/campaigns",
                "desk": "/desk",
                "calendar": f"/calendar?organisation_id=1&first={date.today()}&days=7",
                "campaign-week": "/campaigns/1/calendar",
                "preview": f"/preview?screen_id={screen_id}&at={tomorrow}T10:00",
                "reports": "/reports",
                "audit": "/audit",
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
