"""Lockstep judged from outside: two real players whose clocks are 3 s ahead and 3 s behind
flip posters together, as an observer process sees it.

The observer (observer.py) watches both players' frame files with inotify and stamps each
new frame on its own clock, the machine's, which is the server's. The boundaries come from
the manifest by the protocol's rotation (`slot_at`). Every change after a warm-up counts,
late ones included: at least 95 % land within 50 ms of their boundary and all within
100 ms, and the right poster shows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.conftest import StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import png
from tests.integration.player.players import PlayerProcess, slot_at, wait_for
from tests.reliability.observer import Seen, observing

# Alone: other tests' load on the cores would be measured as the players' lateness.
pytestmark = [pytest.mark.integration, pytest.mark.serial]

COLOURS = [(200, 30, 30), (30, 160, 40), (30, 60, 200), (230, 200, 20), (150, 40, 170)]
DURATIONS_MS = [600, 900, 600, 1200, 600]
CHANGES = 20  # per player, after the warm-up
ON_TIME = timedelta(milliseconds=50)
AT_WORST = timedelta(milliseconds=100)
ON_TIME_SHARE = 0.95
SKEWS = {"ahead": timedelta(seconds=3), "behind": timedelta(seconds=-3)}
WARM_UP = timedelta(seconds=4)  # a few polls to estimate the clock offsets


def poster(colour: tuple[int, int, int] | None) -> tuple[int, int, int] | None:
    """Which of COLOURS a frame shows (re-encoding moves a channel by a step or two)."""
    for known in COLOURS:
        if colour is not None and all(abs(a - b) <= 8 for a, b in zip(colour, known, strict=True)):
            return known
    return None


def lateness(manifest: dict[str, object], seen: Seen) -> tuple[timedelta, str | None]:
    """How far from its nearest boundary a change came (negative: early), and the asset
    the protocol puts on screen from that boundary."""
    asset, start = slot_at(manifest, seen.at)
    soon, next_start = slot_at(manifest, seen.at + AT_WORST)
    if next_start > seen.at and next_start - seen.at < seen.at - start:
        return seen.at - next_start, soon
    return seen.at - start, asset


def test_two_skewed_players_change_together_seen_from_outside(
    start_server: StartServer,
    start_player: StartPlayer,
    content_for: ContentFor,
    tmp_path: Path,
    record_property: object,
) -> None:
    server = start_server(
        settings={"poll_interval_s": 2, "publish_margin_s": 0, "screen_profiles": "320x180"}
    )
    content = content_for(server)
    assets = [content.image(png(c), f"c{i}.png") for i, c in enumerate(COLOURS)]
    colour_of = {content.deliver(a, (320, 180)): c for a, c in zip(assets, COLOURS, strict=True)}
    week = content.campaign(
        "Lockstep", {"week": list(zip(assets, DURATIONS_MS, strict=True))}, [{"playlist": "week"}]
    )
    content.publish(week)
    token = content.enrolment_token()
    players: dict[str, PlayerProcess] = {
        name: start_player(
            server.base_url,
            name,
            enrol_token=token,
            skew_ms=skew // timedelta(milliseconds=1),
            launch=False,
        )
        for name, skew in SKEWS.items()
    }
    frames = {name: p.data_dir / "frames" for name, p in players.items()}

    with observing(tmp_path / "observed.tsv", frames) as observer:
        for player in players.values():
            player.start()

        def describe() -> str:
            return "\n".join(p.log() for p in players.values())

        def content_seen(name: str) -> list[Seen]:
            return [s for s in observer.seen(name) if poster(s.colour) is not None]

        wait_for(lambda: all(content_seen(n) for n in players), "content on both", 30, describe)
        since = max(content_seen(n)[0].at for n in players) + WARM_UP

        def after_warm_up() -> dict[str, list[Seen]] | None:
            found = {n: [s for s in content_seen(n) if s.at >= since][:CHANGES] for n in players}
            return found if all(len(v) == CHANGES for v in found.values()) else None

        changes = wait_for(after_warm_up, f"{CHANGES} changes on each", 120, describe)

    manifests = {name: p.saved_manifest() for name, p in players.items()}
    measured: list[tuple[str, datetime, timedelta]] = []
    for name, seen in changes.items():
        manifest = manifests[name]
        assert manifest is not None
        for change in seen:
            off, asset = lateness(manifest, change)
            assert asset is not None and colour_of[asset] == poster(change.colour), (
                name,
                change,
                off,
            )
            measured.append((name, change.at, off))
    late = [m for m in measured if abs(m[2]) > ON_TIME]
    worst = max(abs(m[2]) for m in measured)
    report = (
        f"{len(measured)} changes, {len(late)} more than 50 ms from their boundary, "
        f"worst {worst / timedelta(milliseconds=1):.1f} ms: "
        + ", ".join(f"{n} {o / timedelta(milliseconds=1):+.1f} ms" for n, _, o in late)
    )
    print(report)
    record_property("lockstep", report)  # type: ignore[operator]
    assert len(late) <= len(measured) * (1 - ON_TIME_SHARE), report
    assert worst <= AT_WORST, report
    assert len({poster(c.colour) for seen in changes.values() for c in seen}) == len(COLOURS)
