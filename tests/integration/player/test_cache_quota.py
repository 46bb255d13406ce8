"""A cache quota smaller than the programme: what the screen still needs is kept, what it no
longer needs makes room, and the shortfall reaches the server in the screen's status."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.conftest import StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import noise_png
from tests.integration.player.players import wait_for

pytestmark = pytest.mark.integration
SCREEN = (640, 360)


def test_a_small_quota_keeps_what_is_needed_and_reports_the_shortage(
    start_server: StartServer, start_player: StartPlayer, content_for: ContentFor
) -> None:
    server = start_server(
        settings={
            "poll_interval_s": 2,
            "publish_margin_s": 1,
            "screen_profiles": "640x360",
            "heartbeat_flush_s": 0.5,
        }
    )
    content = content_for(server)
    old, *new = (content.image(noise_png(seed, SCREEN), f"{seed}.png") for seed in range(4))
    x, a, b, c = (content.deliver(asset, SCREEN) for asset in (old, *new))
    sizes = {sha: len(server.store().path(sha).read_bytes()) for sha in (x, a, b, c)}
    quota = int(2.5 * max(sizes.values()))  # two posters fit, never three
    first = content.campaign("First", {"first": [(old, 1000)]}, [{"playlist": "first"}])
    content.publish(first)
    token = content.enrolment_token()
    player = start_player(
        server.base_url, "small", enrol_token=token, size=SCREEN, cache_quota=str(quota)
    )
    wait_for(lambda: x in [ch.name for ch in player.changes()], "the first poster", 30, player.log)

    # A new programme of three posters takes over; the old one is not needed after that.
    second = content.campaign(
        "Second",
        {"second": [(asset, 1000) for asset in new]},
        [{"playlist": "second", "priority": 10}],
    )
    takeover = content.publish(second)
    screen_id = player.screen_id()
    assert screen_id is not None

    def settled() -> dict[str, Any] | None:
        cached = player.cached()
        if len(cached) != 2 or x in cached:
            return None
        [missing] = {a, b, c} - cached
        # The server shows what the last poll said (one poll interval and a flush behind).
        status: dict[str, Any] = content.screen(screen_id)["status"]
        return status if status.get("cache_shortage_bytes") == sizes[missing] else None

    wait_for(settled, "the old poster evicted, the shortage in the status", 30, player.log)
    cached = player.cached()
    assert len(cached) == 2 and cached < {a, b, c}
    total = sum(p.stat().st_size for p in player.cache_dir.iterdir())
    assert total <= quota
    # Only the poster nobody needs any more was evicted: the needed ones stay put.
    evicted = [line for line in player.log(tail=1000).splitlines() if "cache: evicting" in line]
    assert len(evicted) == 1 and x in evicted[0]

    # The screen plays what it holds, without the missing poster and without the old one.
    wait_for(
        lambda: len([ch for ch in player.changes() if ch.at >= takeover]) >= 4,
        "the new programme playing",
        30,
        player.log,
    )
    shown = {ch.name for ch in player.changes() if ch.at >= takeover}
    assert shown == cached
