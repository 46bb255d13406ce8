"""Damaged media: bytes flipped on the way are refused and fetched again after a pause; a
poster that will not decode is skipped and reported to the server; the screen never goes
blank meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, UnidentifiedImageError

from tests.integration.conftest import StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import png
from tests.integration.player.players import PlayerProcess, slot_at, wait_for
from tests.integration.player.proxy import Proxy

pytestmark = pytest.mark.integration
SCREEN = (320, 180)


def frame_is_blank(path: Path) -> bool | None:
    """Whether the frame on screen is one flat black; None if there is none yet."""
    try:
        with Image.open(path) as image:
            extrema = image.convert("L").getextrema()
    except (OSError, UnidentifiedImageError):
        return None  # not written yet
    assert isinstance(extrema[1], int)
    return extrema[1] < 16


def test_damaged_bytes_are_refetched_undecodable_posters_skipped_and_reported(
    start_server: StartServer, start_player: StartPlayer, content_for: ContentFor
) -> None:
    server = start_server(
        settings={
            "poll_interval_s": 2,
            "publish_margin_s": 0,
            "screen_profiles": "320x180",
            "heartbeat_flush_s": 0.5,
        }
    )
    content = content_for(server)
    red, green, blue, grey = (
        content.image(png(c), f"{i}.png")
        for i, c in enumerate([(200, 30, 30), (30, 160, 40), (30, 60, 200), (128, 128, 128)])
    )
    a, b, c = (content.deliver(x, SCREEN) for x in (red, green, blue))
    # grey's rendering for this screen is a PNG cut in half: its hash is right, it will not
    # decode. (The server checks what it is given; this is what a bad disk leaves behind.)
    d = content.damaged_rendering(grey, "320x180", png((128, 128, 128), SCREEN)[:60])
    # Blue comes round every 2-3 s: its turn comes while it is missing, whatever the timing.
    week = content.campaign(
        "Week",
        {"week": [(red, 1000), (blue, 1000), (green, 1000), (blue, 1000), (grey, 1000)]},
        [{"playlist": "week"}],
    )
    content.publish(week)
    token = content.enrolment_token()
    proxy = Proxy(server.port).start()
    proxy.corrupt[c] = 2  # the first two answers for blue lose a byte on the way
    blanks: list[bool] = []
    try:
        player = start_player(proxy.base_url, "p1", enrol_token=token, size=SCREEN)

        def look(player: PlayerProcess) -> list[str]:
            blank = frame_is_blank(player.data_dir / "frames" / "current.png")
            if blank is not None:
                blanks.append(blank)
            return [ch.name for ch in player.changes()]

        wait_for(lambda: c in look(player), "blue on screen after all", 30, player.log)
        screen_id = player.screen_id()
        assert screen_id is not None

        def reported() -> list[str]:
            look(player)
            errors = content.screen(screen_id)["status"].get("errors") or []
            text = " ".join(errors)
            return errors if f"asset {d[:12]} undecodable" in text else []

        errors = wait_for(reported, "the undecodable poster in the screen's status", 30)
        wait_for(lambda: len(look(player)) >= 12, "a few turns of the playlist", 30, player.log)
        names = look(player)
        changes = player.changes()
        manifest = player.saved_manifest()
    finally:
        proxy.close()

    # Blue: the damaged copies refused, asked for again after growing pauses, then shown.
    times = [s.at for s in proxy.requests_for(f"/media/{c}") if s.status == 200]
    assert len(times) == 3
    assert times[1] - times[0] >= 1.0 and times[2] - times[1] >= 2.0  # backing off
    assert (player.cache_dir / c).exists()
    # Meanwhile the rest played: blue's turn came while it was missing, and the poster
    # before it stayed up. The broken poster never showed; nothing was ever blank.
    assert manifest is not None
    shown = [ch for ch in changes if not ch.is_card]
    first_blue = next(i for i, ch in enumerate(shown) if ch.name == c)
    assert first_blue > 0 and {ch.name for ch in shown[:first_blue]} <= {a, b}

    def blue_due_between(begin: datetime, end: datetime) -> bool:
        probes = int((end - begin) / timedelta(milliseconds=50))
        return any(
            slot_at(manifest, begin + timedelta(milliseconds=50 * k))[0] == c
            for k in range(1, probes)
        )

    held = zip(shown[:first_blue], shown[1 : first_blue + 1], strict=True)
    assert any(blue_due_between(x.at, y.at) for x, y in held)
    assert d not in names
    assert set(names) <= {a, b, c, "card:pairing", "card:idle"}  # a card until content
    assert blanks and not any(blanks)
    assert any("undecodable" in e for e in errors)
