"""One real server and one real Chromium per test module: Debian's chromium driven by
Playwright (never a downloaded browser), pages checked for console errors and CSP reports.

    def test_x(console: Console) -> None:
        page = console.page("en")               # a fresh browser context, signed out
        console.sign_in(page, console.admin)    # through the sign-in form
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from server.config import env_name
from tests.integration.conftest import ServerProcess, free_port
from tests.integration.player.players import PlayerProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "console-password-1"
TIMEOUT_MS = 20_000

pytestmark = pytest.mark.integration


@dataclass
class Console:
    server: ServerProcess
    browser: Any
    tmp: Path
    admin: str = "admin@province.test"
    viewer: str = "viewer@province.test"
    organisation_id: int = 0
    # Every console message of type error and every page error, by page URL.
    errors: list[str] = field(default_factory=list)
    players: list[PlayerProcess] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.server.url(path)

    def page(self, locale: str = "en", *, width: int = 1440, height: int = 900) -> Any:
        context = self.browser.new_context(
            locale=locale,
            timezone_id="Asia/Shanghai",
            viewport={"width": width, "height": height},
            extra_http_headers={"Accept-Language": locale},
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on(
            "console",
            lambda m: self.errors.append(f"{page.url}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))
        return page

    def sign_in(self, page: Any, email: str) -> None:
        page.goto(self.url("/login"))
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_url("**/fleet")

    def start_player(self, name: str, *, size: tuple[int, int] = (320, 180)) -> PlayerProcess:
        data_dir = self.tmp / "players" / name
        args = [
            "--server", self.server.base_url,
            "--data-dir", str(data_dir),
            "--display", "headless",
            "--size", f"{size[0]}x{size[1]}",
            "--hardware-id", f"console-{name}",
            "--name", name,
            "--screenshot-interval", "0",
            "--log-level", "INFO",
        ]  # fmt: skip
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SIGNAGE_") and k not in ("DISPLAY", "WAYLAND_DISPLAY")
        }
        env.pop("NOTIFY_SOCKET", None)
        player = PlayerProcess(data_dir, args, env).start()
        self.players.append(player)
        return player

    def take_errors(self) -> list[str]:
        found, self.errors[:] = list(self.errors), []
        return found


def seed(server: ServerProcess) -> int:
    """Province ▸ City, an admin and a viewer of Province with a known password."""
    from server.accounts.models import Role
    from server.accounts.organisations import create_organisation
    from server.accounts.users import add_user

    now = datetime.now().astimezone()
    with server.session() as session:
        province = create_organisation(session, "Province", None, now)
        session.flush()
        create_organisation(session, "City", province, now)
        add_user(session, "admin@province.test", PASSWORD, province, Role.ADMIN, now)
        add_user(session, "viewer@province.test", PASSWORD, province, Role.VIEWER, now)
        session.flush()
        return province.id


def start_module_server(tmp: Path, settings: dict[str, object] | None = None) -> ServerProcess:
    instance = tmp / "server"
    instance.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGE_")}
    env.update(
        {
            env_name("instance_path"): str(instance),
            env_name("secret_key"): "console-tests",
            env_name("clock_file"): str(instance / "clock"),
            env_name("log_level"): "WARNING",
        }
    )
    for key, value in (settings or {}).items():
        env[env_name(key)] = str(value)
    if os.environ.get("SIGNAGE_TEST_DATABASE_URL"):
        env[env_name("database_url")] = _fresh_pg(os.environ["SIGNAGE_TEST_DATABASE_URL"], tmp)
    return ServerProcess(instance, free_port(), env, threads=8).start()


def _fresh_pg(server_url: str, tmp: Path) -> str:
    import psycopg
    from sqlalchemy import make_url

    admin = make_url(server_url)
    name = f"signage_console_{os.getpid()}_{abs(hash(tmp)) % 100000}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


def drop_pg(server: ServerProcess) -> None:
    """Drop the PostgreSQL database `start_module_server` made (if it made one)."""
    url = server.env.get(env_name("database_url"))
    if not url or not os.environ.get("SIGNAGE_TEST_DATABASE_URL"):
        return
    import psycopg
    from sqlalchemy import make_url

    made = make_url(url)
    admin = make_url(os.environ["SIGNAGE_TEST_DATABASE_URL"]).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{made.database}" WITH (FORCE)')


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (scripts/system-deps installs it)")
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("console")
    server = start_module_server(
        tmp,
        {
            "poll_interval_s": 1,
            "publish_margin_s": 3,  # a publish takes effect 4 s later: tests wait for it
            "heartbeat_flush_s": 1,
            "screen_profiles": "1920x1080,320x180",
        },
    )
    org_id = seed(server)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    console = Console(server, browser, tmp, organisation_id=org_id)
    try:
        yield console
    finally:
        for player in console.players:
            player.stop()
        browser.close()
        playwright.stop()
        server.stop()
        drop_pg(server)
        shutil.rmtree(tmp / "players", ignore_errors=True)


def rest(console: Console, email: str) -> requests.Session:
    """An API session of `email` (signed in with the test password), CSRF header set."""
    http = requests.Session()
    r = http.post(
        console.url("/api/v1/session"), json={"email": email, "password": PASSWORD}, timeout=10
    )
    assert r.status_code == 201, r.text
    http.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return http


def call(http: requests.Session, console: Console, method: str, path: str, **kw: Any) -> Any:
    """An API call that must succeed; its JSON answer."""
    r = http.request(method, console.url(f"/api/v1{path}"), timeout=30, **kw)
    assert r.status_code in (200, 201), f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


def pairing_code(console: Console, hardware_id: str) -> str | None:
    """The code on the player's pairing card (its headless display draws it; the test
    reads it where the player learnt it, the server's pairing row)."""
    from sqlalchemy import select

    from server.screens.models import Pairing

    with console.server.session() as session:
        code = session.scalar(
            select(Pairing.code)
            .where(Pairing.hardware_id == hardware_id, Pairing.screen_id.is_(None))
            .order_by(Pairing.id.desc())
        )
    return str(code) if code else None
