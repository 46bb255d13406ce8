"""With the server gone the players go on playing, change theme day at local midnight (on
their monotonic clocks, carried forward from the server's time at their last poll), and
pick up a new publish as soon as the server is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.integration.conftest import ServerProcess, StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import SHANGHAI, morning_in_shanghai, png
from tests.integration.player.players import Change, PlayerProcess, floor_ms, wait_for

pytestmark = pytest.mark.integration
LOCAL = ZoneInfo(SHANGHAI)
POLL_S = 2
# Not early by a millisecond; late by at most this (how long a busy machine may keep a
# process from its boundary: lockstep itself is measured in test_lockstep.py). A player
# that missed the change would be a poll interval or a whole rotation out.
LATE = timedelta(seconds=1)
TO_MIDNIGHT = timedelta(seconds=12)  # the server's clock before it goes away


def polled_since(server: ServerProcess, player: PlayerProcess, since: datetime) -> bool:
    """The server has recorded a poll of `player` at or after `since` (its own clock)."""
    from sqlalchemy import select

    from server.screens.models import Screen

    screen_id = player.screen_id()
    if screen_id is None:
        return False
    with server.session() as session:
        seen = session.scalar(select(Screen.last_seen_at).where(Screen.id == screen_id))
    if seen is not None and seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    return seen is not None and seen >= since


def test_offline_players_keep_playing_change_day_at_midnight_and_catch_up(
    start_server: StartServer, start_player: StartPlayer, content_for: ContentFor
) -> None:
    server = start_server(
        settings={
            "poll_interval_s": POLL_S,
            "publish_margin_s": 2,
            "screen_profiles": "320x180",
            "heartbeat_flush_s": 1,
        }
    )
    today, tomorrow, midnight = morning_in_shanghai(server)

    content = content_for(server)
    red, green, blue, gold, white = (
        content.image(png(c), f"{i}.png")
        for i, c in enumerate(
            [(200, 30, 30), (30, 160, 40), (30, 60, 200), (230, 200, 20), (240, 240, 240)]
        )
    )
    week = content.campaign(
        "Cybersecurity Week",
        {"day-1": [(red, 1000), (green, 1000)], "day-2": [(blue, 1000), (gold, 1000)]},
        [
            {"playlist": "day-1", "first_date": today, "last_date": today},
            {"playlist": "day-2", "first_date": tomorrow, "last_date": tomorrow},
        ],
    )
    content.publish(week)
    token = content.enrolment_token()
    players = [start_player(server.base_url, name, enrol_token=token) for name in ("p1", "p2")]

    def describe() -> str:
        return "\n".join(p.log() for p in players)

    def day(player: PlayerProcess, playlist: str) -> list[Change]:
        return [c for c in player.changes() if c.playlist == playlist and not c.is_card]

    # Online: both days' posters cached, today's theme day on screen.
    def ready(player: PlayerProcess) -> bool:
        manifest = player.saved_manifest()
        if manifest is None:
            return False
        return set(manifest["assets"]) <= player.cached() and bool(day(player, "day-1"))

    wait_for(lambda: all(ready(p) for p in players), "both players ready", describe=describe)

    # The server's clock to shortly before midnight, and a poll of each player on it.
    offset = midnight - TO_MIDNIGHT - datetime.now(UTC)
    server.set_clock(offset)
    wait_for(
        lambda: all(polled_since(server, p, midnight - TO_MIDNIGHT) for p in players),
        "a poll of each player on the server's new clock",
        10,
        describe,
    )

    # The server goes away; the screens go on rotating today's posters.
    server.stop()
    before = [len(day(p, "day-1")) for p in players]
    wait_for(
        lambda: all(len(day(p, "day-1")) >= n + 3 for p, n in zip(players, before, strict=True)),
        "offline players still rotating",
        describe=describe,
    )

    # Midnight comes on their monotonic clocks, carried forward from the last poll.
    wait_for(lambda: all(day(p, "day-2") for p in players), "tomorrow's theme day", 20, describe)
    firsts: list[datetime] = []
    for player in players:
        changes = [c for c in player.changes() if not c.is_card]
        i = next(i for i, c in enumerate(changes) if c.playlist == "day-2")
        assert changes[i - 1].playlist == "day-1" and changes[i - 1].at < midnight
        assert midnight <= changes[i].at < midnight + LATE, changes[i]
        firsts.append(changes[i].at)
    assert abs(firsts[0] - firsts[1]) <= LATE

    # The server comes back, its clock where the players' are: tomorrow. A new publish
    # (a short notice over the theme day) reaches both before its effective instant.
    server.set_clock(offset)
    server.start()
    notice = content.campaign(
        "Notice",
        {"notice": [(white, 1000)]},
        [{"playlist": "notice", "priority": 10}],
    )
    # One poll interval and the 2 s margin from now (manifests write whole milliseconds).
    effective = floor_ms(content.publish(notice))
    wait_for(
        lambda: all(day(p, "notice") for p in players), "the new publish on screen", 30, describe
    )
    for player in players:
        notice_on = day(player, "notice")[0]
        assert effective <= notice_on.at < effective + LATE, (notice_on, effective)
        assert not [c for c in player.changes() if c.at > midnight and c.playlist == "day-1"]
