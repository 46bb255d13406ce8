"""The player's wall clock steps an hour back and an hour forward at random (seeded) moments
around a theme-day boundary; what is on screen does not move, seen from outside.

The steps are real in the player process: its wall clock reads the test-only fake-time
file (`--fake-time-file`, docs/player.md), rewritten at each moment; the monotonic clock
is untouched, as an NTP step or an operator would leave it. The server's clock (its clock
file) stands a few seconds before local midnight, so the boundary comes in seconds.

Each step falls, at a seeded random moment, in a window where a player that believed its
wall clock would show the wrong day: an hour forward before midnight (tomorrow's poster
early), an hour back after it (today's again). The observer process stamps every new
frame on the machine's clock; the test maps it to the server's clock and asserts that
today's poster gave way to tomorrow's exactly once, at midnight, and never came back.
`SIGNAGE_TEST_SEED` picks other moments.
"""

from __future__ import annotations

import os
import random
import time as systime
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.integration.conftest import ServerProcess, StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import SHANGHAI, morning_in_shanghai, png
from tests.integration.player.players import PlayerProcess, wait_for
from tests.reliability.observer import observing

# Alone: other tests' load on the cores would be measured as the change's lateness.
pytestmark = [pytest.mark.integration, pytest.mark.serial]

LOCAL = ZoneInfo(SHANGHAI)
POLL_S = 2
TODAY, TOMORROW = (200, 30, 30), (30, 60, 200)
SEED = int(os.environ.get("SIGNAGE_TEST_SEED", "20261201"))
HOUR = timedelta(hours=1)
# Where each step may fall, in seconds from midnight on the server's clock, and by how much
# the wall clock moves: forward and back before midnight, back and forward after it.
STEPS = [((-9.0, -5.5), HOUR), ((-4.5, -1.0), -HOUR), ((0.3, 3.0), -HOUR), ((4.0, 7.0), HOUR)]
AFTER_S = 10.0  # watched this long after midnight: past the last step and a poll after it
TO_MIDNIGHT = timedelta(seconds=16)  # the server's clock, once the player is ready
EARLY = timedelta(milliseconds=100)  # the player's estimate of the server's clock: a LAN trip
LATE = timedelta(seconds=1)  # a busy shared machine; a missed day would be hours out


def poster(colour: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    for known in (TODAY, TOMORROW):
        if colour is not None and all(abs(a - b) <= 8 for a, b in zip(colour, known, strict=True)):
            return known
    return None


def last_seen(server: ServerProcess, screen_id: int) -> datetime | None:
    from server.screens.models import Screen

    with server.session() as session:
        seen = session.scalar(select(Screen.last_seen_at).where(Screen.id == screen_id))
    return seen.replace(tzinfo=UTC) if seen is not None and seen.tzinfo is None else seen


def sleep_until(real: datetime) -> None:
    """Wait for an instant on the machine's clock: the boundary itself cannot be hurried."""
    left = (real - datetime.now(UTC)).total_seconds()
    if left > 0:
        systime.sleep(left)


def test_wall_clock_steps_do_not_move_the_theme_day_change(
    start_server: StartServer,
    start_player: StartPlayer,
    content_for: ContentFor,
    tmp_path: Path,
    record_property: object,
) -> None:
    server = start_server(
        settings={
            "poll_interval_s": POLL_S,
            "publish_margin_s": 0,
            "screen_profiles": "320x180",
            "heartbeat_flush_s": 1,
        }
    )
    today, tomorrow, midnight = morning_in_shanghai(server)

    content = content_for(server)
    red, blue = content.image(png(TODAY), "today.png"), content.image(png(TOMORROW), "tmrw.png")
    week = content.campaign(
        "Theme days",
        {"day-a": [(red, 5000)], "day-b": [(blue, 5000)]},
        [
            {"playlist": "day-a", "first_date": today, "last_date": today},
            {"playlist": "day-b", "first_date": tomorrow, "last_date": tomorrow},
        ],
    )
    content.publish(week)
    player: PlayerProcess = start_player(
        server.base_url,
        "stepped",
        enrol_token=content.enrolment_token(),
        fake_time=True,
        launch=False,
    )

    with observing(tmp_path / "observed.tsv", {"p": player.data_dir / "frames"}) as observer:
        player.start()

        def ready() -> bool:
            manifest = player.saved_manifest()
            shown = any(poster(s.colour) == TODAY for s in observer.seen())
            return manifest is not None and set(manifest["assets"]) <= player.cached() and shown

        wait_for(ready, "today's poster on screen, tomorrow's cached", 40, player.log)
        screen_id = player.screen_id()
        assert screen_id is not None

        # The server's clock to just before midnight; wait for a poll that saw it.
        offset = midnight - TO_MIDNIGHT - datetime.now(UTC)
        server.set_clock(offset)
        stepped_at = midnight - TO_MIDNIGHT
        wait_for(
            lambda: (seen := last_seen(server, screen_id)) is not None and seen >= stepped_at,
            "a poll on the server's new clock",
            10,
            player.log,
        )

        rng = random.Random(SEED)
        plan = [(midnight + timedelta(seconds=rng.uniform(*w)), d) for w, d in STEPS]
        assert datetime.now(UTC) + offset < plan[0][0], "the player took too long to poll"
        shift = timedelta(0)
        for at, delta in plan:
            sleep_until(at - offset)
            shift += delta
            player.shift_clock(shift)
        sleep_until(midnight + timedelta(seconds=AFTER_S) - offset)
        seen = [s for s in observer.seen() if poster(s.colour) is not None]

    assert player.alive(), player.log()
    on_server: list[tuple[datetime, tuple[int, int, int] | None]] = [
        (s.at + offset, poster(s.colour)) for s in seen
    ]
    report = (
        f"seed {SEED}, steps at "
        + ", ".join(f"{(at - midnight).total_seconds():+.2f} s {d / HOUR:+.0f} h" for at, d in plan)
        + "; frames: "
        + ", ".join(f"{(t - midnight).total_seconds():+.3f} s {c}" for t, c in on_server)
    )
    print(report)
    record_property("clock_steps", report)  # type: ignore[operator]
    # Today's poster, then tomorrow's, once: no day switched twice, none missed.
    sequence = [c for i, (_, c) in enumerate(on_server) if i == 0 or on_server[i - 1][1] != c]
    assert sequence == [TODAY, TOMORROW], report
    change = next(t for t, c in on_server if c == TOMORROW)
    assert midnight - EARLY <= change <= midnight + LATE, report
