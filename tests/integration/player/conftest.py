"""Real `signage-player` processes against a real server (`start_server`), and the content
they play, put on the server through its own services and operator API.

    def test_x(start_server, start_player, content_for):
        server = start_server(settings={"poll_interval_s": 2})
        content = content_for(server)                    # images, campaigns, publishing
        token = content.enrolment_token()
        player = start_player(server.base_url, enrol_token=token)  # headless, own data dir
        wait_for(lambda: player.changes(), "a first change")

Nothing here sleeps for time to pass: `wait_for` (players.py) polls a condition until a
deadline. The pieces: `players.py` (processes, change logs, the rotation oracle),
`content.py` (posters, campaigns, the operator API), `proxy.py` (slow or damaged media).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from tests.integration.conftest import ServerProcess
from tests.integration.player.content import Content
from tests.integration.player.players import PlayerProcess

StartPlayer = Callable[..., PlayerProcess]


@pytest.fixture
def start_player(tmp_path: Path) -> Iterator[StartPlayer]:
    """A factory of headless player processes; all are stopped after the test."""
    started: list[PlayerProcess] = []

    def start(
        server_url: str,
        name: str = "player",
        *,
        enrol_token: str | None = None,
        size: tuple[int, int] = (320, 180),
        skew_ms: int = 0,
        fake_time: bool = False,
        cache_quota: str | None = None,
        extra: Sequence[str] = (),
        launch: bool = True,
    ) -> PlayerProcess:
        data_dir = tmp_path / "players" / name
        args = [
            "--server",
            server_url,
            "--data-dir",
            str(data_dir),
            "--display",
            "headless",
            "--size",
            f"{size[0]}x{size[1]}",
            "--hardware-id",
            f"it-{name}",
            "--name",
            name,
            "--screenshot-interval",
            "0",
            "--log-level",
            "INFO",
        ]
        if enrol_token:
            args += ["--enrol-token", enrol_token]
        if skew_ms:
            args += ["--clock-skew-ms", str(skew_ms)]
        if cache_quota:
            args += ["--cache-quota", cache_quota]
        args += list(extra)  # last, so an option given here wins over the defaults above
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SIGNAGE_") and k not in ("DISPLAY", "WAYLAND_DISPLAY")
        }
        env.pop("NOTIFY_SOCKET", None)
        player = PlayerProcess(data_dir, args, env)
        if fake_time:
            player.args += ["--fake-time-file", str(player.fake_time_file)]
        started.append(player)
        return player.start() if launch else player

    yield start
    for player in started:
        player.stop()


ContentFor = Callable[[ServerProcess], Content]


@pytest.fixture
def content_for() -> ContentFor:
    def make(server: ServerProcess) -> Content:
        admin = server.seed_admin()
        return Content(server, admin.organisation_id, admin.headers)

    return make
