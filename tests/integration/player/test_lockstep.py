"""Two real players whose clocks are 6 seconds apart flip in step with each other.

Each change-log line holds the corrected instant of the change and the correction applied,
so a change can be placed on the real timeline too: the local clock is the system's plus
the skew the test gave the player. A change that came late by the player's own corrected
clock (the machine was busy: the process did not get the processor at its boundary) says
nothing about clocks and is left out; twenty changes that both players made on time must
agree within 100 ms, and their clocks must have been corrected by minus their skews.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.integration.conftest import StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import png
from tests.integration.player.players import Change, PlayerProcess, slot_at, wait_for

pytestmark = pytest.mark.integration

COLOURS = [(200, 30, 30), (30, 160, 40), (30, 60, 200), (230, 200, 20), (150, 40, 170)]
DURATIONS_MS = [1000, 1500, 1000, 2000, 1000]
CHANGES = 20
AGREE = timedelta(milliseconds=100)
ON_TIME = timedelta(milliseconds=50)  # later than this by its own clock: the OS was busy
SKEWS = {"ahead": timedelta(seconds=3), "behind": timedelta(seconds=-3)}


def test_two_skewed_players_agree_within_100_ms_over_20_changes(
    start_server: StartServer, start_player: StartPlayer, content_for: ContentFor
) -> None:
    server = start_server(
        settings={"poll_interval_s": 2, "publish_margin_s": 0, "screen_profiles": "320x180"}
    )
    content = content_for(server)
    assets = [content.image(png(c), f"c{i}.png") for i, c in enumerate(COLOURS)]
    week = content.campaign(
        "Lockstep",
        {"week": list(zip(assets, DURATIONS_MS, strict=True))},
        [{"playlist": "week"}],
    )
    content.publish(week)
    token = content.enrolment_token()
    players = {
        name: start_player(
            server.base_url, name, enrol_token=token, skew_ms=skew // timedelta(milliseconds=1)
        )
        for name, skew in SKEWS.items()
    }

    def describe() -> str:
        return "\n".join(p.log() for p in players.values())

    def content_changes(player: PlayerProcess) -> list[Change]:
        return [c for c in player.changes() if not c.is_card]

    # Warm-up: both show content and have had a few polls to estimate their offsets.
    wait_for(lambda: all(content_changes(p) for p in players.values()), "content", 30, describe)
    since = max(content_changes(p)[0].at for p in players.values()) + timedelta(seconds=4)
    manifests = {name: p.saved_manifest() for name, p in players.items()}
    late: dict[str, int] = {}

    def on_time(name: str) -> dict[datetime, Change]:
        """This player's changes after the warm-up that came on time, by their boundary."""
        manifest = manifests[name]
        assert manifest is not None
        by_boundary, late[name] = {}, 0
        for change in content_changes(players[name]):
            if change.at < since:
                continue
            asset, boundary = slot_at(manifest, change.at)
            assert change.name == asset, change  # the right poster for the instant
            if change.at - boundary <= ON_TIME:
                by_boundary[boundary] = change
            else:
                late[name] += 1
        return by_boundary

    def both_on_time() -> list[tuple[Change, Change]] | None:
        a, b = on_time("ahead"), on_time("behind")
        pairs = [(a[t], b[t]) for t in sorted(set(a) & set(b))]
        return pairs[:CHANGES] if len(pairs) >= CHANGES else None

    pairs = wait_for(both_on_time, f"{CHANGES} changes on time on both", 120, describe)
    for a, b in pairs:
        # In the corrected time each logged, and on the real timeline.
        assert abs(a.at - b.at) <= AGREE, (a, b)
        real_a, real_b = a.local - SKEWS["ahead"], b.local - SKEWS["behind"]
        assert abs(real_a - real_b) <= AGREE, (a, b, late)
        # Each corrected its own clock by (almost exactly) minus its skew.
        assert abs(a.offset + SKEWS["ahead"]) <= ON_TIME, a
        assert abs(b.offset + SKEWS["behind"]) <= ON_TIME, b
    assert len({a.name for a, _ in pairs}) == len(COLOURS)  # the whole rotation went by
