"""The demo starts a real screen player beside its server; it enrols and comes online."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from server.db import Database, make_engine
from server.demo.player import DEMO_SCREEN, start_demo_player
from server.demo.seed import PROVINCE, seed
from tests.integration.conftest import StartServer
from tests.integration.player.content import TIMEOUT
from tests.integration.player.players import wait_for

pytestmark = pytest.mark.integration


def test_the_demo_player_enrols_in_the_province_and_is_online(
    start_server: StartServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)  # headless here, whatever the desktop
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    server = start_server(settings={"poll_interval_s": 2, "heartbeat_flush_s": 0.5})
    settings = server.settings()
    engine = make_engine(settings)
    try:
        # the demo's organisations, as `signage demo` makes them
        seed(Database(engine), settings, datetime.now(UTC))
    finally:
        engine.dispose()
    admin = server.seed_admin(organisation=PROVINCE)
    lines: list[str] = []
    process = start_demo_player(settings, server.base_url, lines.append)
    assert process is not None
    try:

        def demo_screen() -> dict[str, Any] | None:
            r = requests.get(
                server.url("/api/v1/screens"),
                params={"name": DEMO_SCREEN},
                headers=admin.headers,
                timeout=TIMEOUT,
            )
            assert r.status_code == 200, r.text
            items = [s for s in r.json()["items"] if s["online"]]
            return items[0] if items else None

        screen = wait_for(demo_screen, "the demo screen online", 60)
        assert screen["organisation_id"] == admin.organisation_id
        assert screen["status"]["player_version"]
        assert any("signage-player" in line and "headless" in line for line in lines)
        assert (settings.instance_path / "player" / "device.json").exists()
    finally:
        process.terminate()
        try:
            assert process.wait(30) == 0
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
