"""The player's disk fills up (a real, small tmpfs as its data directory, filled to the last
byte): it keeps playing from its cache, tells the server, and content that does not fit
leaves the cache as it was; once there is room again, that content comes in.

What is on screen is judged by the observer process: the headless display's frames are the
screen, so they live on a file system of their own (a second tmpfs), as a real screen is
not on the player's disk. What the server heard is read from its database: the status the
player sent with its polls.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.integration.conftest import ServerProcess, StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import SHANGHAI, noise_png, png
from tests.integration.player.players import PlayerProcess, wait_for
from tests.reliability.mounts import fill, small_tmpfs
from tests.reliability.observer import Seen, observing

pytestmark = pytest.mark.integration

COLOURS = [(200, 30, 30), (30, 160, 40)]
LOW = 64 * 1024  # "free" on a full tmpfs: at most a few pages
MORE_CHANGES = 6  # seen on screen after the server heard the disk is full


def poster(colour: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    for known in COLOURS:
        if colour is not None and all(abs(a - b) <= 8 for a, b in zip(colour, known, strict=True)):
            return known
    return None


def status(server: ServerProcess, screen_id: int) -> dict[str, Any]:
    from server.screens.models import Screen

    with server.session() as session:
        found = session.scalar(select(Screen.status).where(Screen.id == screen_id))
    return dict(found or {})


def cache_damage(player: PlayerProcess) -> list[str]:
    """Files in the cache that are neither a complete asset with the bytes of its name nor
    the player's own bookkeeping."""
    found = []
    for path in sorted(player.cache_dir.iterdir()):
        if len(path.name) == 64:
            if hashlib.sha256(path.read_bytes()).hexdigest() != path.name:
                found.append(f"{path.name}: bytes do not match")
        elif path.suffix == ".part":
            found.append(f"{path.name}: a partial download left on a full disk")
    return found


def test_a_full_disk_keeps_the_screen_playing_and_is_reported(
    start_server: StartServer,
    start_player: StartPlayer,
    content_for: ContentFor,
    tmp_path: Path,
    record_property: object,
) -> None:
    server = start_server(
        settings={
            "poll_interval_s": 2,
            "publish_margin_s": 0,
            "screen_profiles": "320x180",
            "heartbeat_flush_s": 1,
        }
    )
    content = content_for(server)
    posters = [content.image(png(c), f"{i}.png") for i, c in enumerate(COLOURS)]
    content.publish(
        content.campaign("Week", {"week": [(a, 1000) for a in posters]}, [{"playlist": "week"}])
    )
    player = start_player(
        server.base_url, "full", enrol_token=content.enrolment_token(), launch=False
    )
    player.output = tmp_path / "full-player.log"

    with (
        small_tmpfs(player.data_dir, "1m"),
        small_tmpfs(player.data_dir / "frames", "4m") as frames,
        observing(tmp_path / "observed.tsv", {"p": frames}) as observer,
    ):

        def shown() -> list[Seen]:
            return [s for s in observer.seen() if poster(s.colour) is not None]

        player.start()
        wait_for(lambda: len(shown()) >= 3, "the week's posters rotating", 40, player.log)
        screen_id = player.screen_id()
        assert screen_id is not None
        cached = player.cached()
        assert len(cached) == len(COLOURS), cached

        filler = fill(player.data_dir)
        # Tomorrow's poster, which cannot fit: noise does not compress.
        tomorrow = content.now().astimezone(ZoneInfo(SHANGHAI)).date() + timedelta(days=1)
        big = content.image(noise_png(7, (320, 180)), "noise.png")
        big_sha = content.deliver(big, (320, 180))
        content.publish(
            content.campaign(
                "Tomorrow",
                {"big": [(big, 5000)]},
                [{"playlist": "big", "first_date": tomorrow, "last_date": tomorrow}],
            )
        )

        def heard() -> dict[str, Any] | None:
            found = status(server, screen_id)
            full = any("disk full" in e for e in found.get("errors", []))
            low = found.get("disk_free_bytes", LOW) < LOW
            return found if full and low and found.get("cache_shortage_bytes", 0) > 0 else None

        reported = wait_for(heard, "a status saying the disk is full", 40, player.log)
        record_property("player_disk_full", reported)  # type: ignore[operator]
        before = len(shown())
        wait_for(
            lambda: len(shown()) >= before + MORE_CHANGES,
            "the posters still rotating on a full disk",
            20,
            player.log,
        )
        seen = shown()
        assert player.alive(), player.log()
        assert player.cached() == cached and big_sha not in player.cached()
        assert cache_damage(player) == [], player.log()

        # Room again: the new poster comes in whole, and the server hears the shortage is over.
        filler.unlink()
        wait_for(lambda: big_sha in player.cached(), "the new poster cached", 20, player.log)
        assert cache_damage(player) == [], player.log()
        wait_for(
            lambda: status(server, screen_id).get("cache_shortage_bytes") == 0,
            "a status without the shortage",
            20,
            player.log,
        )
        player.stop()

    # No loop of the player failed on the way (each would have been logged with its trace).
    output = player.log_path.read_text(errors="replace")
    assert "Traceback" not in output, output[-4000:]

    # Still rotating, in turn: every change after the fill is the other poster.
    tail = [poster(s.colour) for s in seen[-MORE_CHANGES:]]
    assert all(a != b for a, b in zip(tail, tail[1:], strict=False)), tail
