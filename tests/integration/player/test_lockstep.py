"""Two real players whose clocks are 6 seconds apart flip in step with each other."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.conftest import StartServer
from tests.integration.player.conftest import (
    Change,
    ContentFor,
    StartPlayer,
    png,
    wait_for,
)

pytestmark = pytest.mark.integration

COLOURS = [(200, 30, 30), (30, 160, 40), (30, 60, 200), (230, 200, 20), (150, 40, 170)]
DURATIONS_MS = [1000, 1500, 2000, 1000, 1500]
CHANGES = 20
AGREE = timedelta(milliseconds=100)


def content_changes(changes: list[Change]) -> list[Change]:
    return [c for c in changes if not c.is_card]


def test_two_skewed_players_agree_within_100_ms_over_20_changes(
    start_server: StartServer, start_player: StartPlayer, content_for: ContentFor
) -> None:
    server = start_server(
        settings={"poll_interval_s": 2, "publish_margin_s": 1, "screen_profiles": "320x180"}
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
    ahead = start_player(server.base_url, "ahead", enrol_token=token, skew_ms=3000)
    behind = start_player(server.base_url, "behind", enrol_token=token, skew_ms=-3000)

    # Warm-up: both show content, and both have had a few polls to estimate their offsets.
    def started() -> bool:
        return all(content_changes(p.changes()) for p in (ahead, behind))

    wait_for(started, "both players showing content", describe=lambda: ahead.log() + behind.log())
    since = max(content_changes(p.changes())[0].at for p in (ahead, behind)) + timedelta(seconds=4)

    def after_warm_up(changes: list[Change]) -> list[Change]:
        return [c for c in content_changes(changes) if c.at >= since]

    wait_for(
        lambda: all(len(after_warm_up(p.changes())) > CHANGES for p in (ahead, behind)),
        f"{CHANGES} changes on both players",
        timeout=90,
        describe=lambda: ahead.log() + behind.log(),
    )
    a_changes = after_warm_up(ahead.changes())[:CHANGES]
    b_changes = after_warm_up(behind.changes())
    assert len({c.name for c in a_changes}) == len(COLOURS)  # the whole rotation went by
    for change in a_changes:
        twin = min(b_changes, key=lambda c: abs(c.at - change.at))
        assert twin.name == change.name, (change, twin)
        assert abs(twin.at - change.at) <= AGREE, (change, twin)
    # Neither player showed anything but the playlist once it had started.
    assert {c.name for c in a_changes} == {c.name for c in b_changes[:CHANGES]}
