"""The agent end to end at the `ServerApi` seam: pairing, polling, fetching, playing, reporting.

Players run their real cache, journal, manifests, timeline and headless display on disk,
driven step by step on a fake clock; only the far side of the wire is a stand-in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from player import fetcher
from player.clock import iso_ms
from player.errors import CacheFull
from player.manifest import parse_instant
from player.network import ERROR_HOLD_S, EXIT_RESTART
from tests.player.fakes import (
    BLUE,
    DAY0,
    GREEN,
    RED,
    WHITE,
    FakeServer,
    Rig,
    drive,
    manifest_body,
    png,
    segment,
    sha,
)

A, B, C, D = png(RED), png(GREEN), png(BLUE), png(WHITE)
DAY = timedelta(days=1)
S = timedelta(seconds=1)
MakeRig = Callable[..., Rig]


def week(version: str = "v1", **kw: Any) -> tuple[dict[str, Any], list[bytes]]:
    """Today: A 10 s, B 5 s; tomorrow (from local midnight): C alone."""
    body = manifest_body(
        [
            segment(DAY0, DAY0 + DAY, "week", [(A, 10_000), (B, 5_000)]),
            segment(DAY0 + DAY, DAY0 + 2 * DAY, "finance-day", [(C, 8_000)]),
        ],
        [A, B, C],
        version=version,
        **kw,
    )
    return body, [A, B, C]


def paired(server: FakeServer, make_rig: MakeRig, name: str = "p1", **kw: Any) -> Rig:
    """A player whose code an operator has claimed already: its first hello pairs it."""
    rig = make_rig(name, **kw)
    server.claim(kw.get("hardware_id", "b8:27:eb:00:00:01"))
    return rig


def test_first_frame_is_the_pairing_card_before_any_network_call(
    server: FakeServer, make_rig: MakeRig
) -> None:
    rig = make_rig()
    rig.agent.playback.step()
    assert server.calls == []
    assert rig.shown() == "card:pairing"


def test_pairing_by_code_then_playing_on_the_boundaries(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    rig = make_rig(name="Lobby left")
    drive([rig], 3)
    assert rig.agent.state.pairing is not None
    code = rig.agent.state.pairing.code
    assert [c[1] for c in rig.changes()] == ["card:pairing", "card:pairing"]  # then with code
    assert server.calls.count("hello") == 1
    server.claim("b8:27:eb:00:00:01")  # an operator types the code
    drive([rig], 10)
    assert server.codes == {} and code
    device = json.loads((rig.data_dir / "device.json").read_text())
    assert device["device_token"] == "sgd_1" and device["screen_id"] == 17
    assert rig.agent.library.active is not None
    drive([rig], 30)
    plays = [c for c in rig.changes() if c[1] != "card:pairing"]
    last = [c[1] for c in plays[-4:]]
    assert set(last) == {sha(A), sha(B)} and last[0] != last[1] != last[2] != last[3]
    # Once everything is cached, every flip lands exactly on a rotation boundary (10 s + 5 s).
    for when, *_ in plays[-4:]:
        offset = (timedelta(seconds=0) + (rig_time(when) - DAY0)) % timedelta(seconds=15)
        assert offset in (timedelta(0), timedelta(seconds=10))


def rig_time(iso: str) -> datetime:
    return parse_instant(iso, "changes.log")


def test_an_enrolment_token_pairs_at_once(server: FakeServer, make_rig: MakeRig) -> None:
    server.publish(*week())
    server.enrol_tokens.add("sge_fleet")
    rig = make_rig(enrol_token="sge_fleet")
    drive([rig], 5)
    assert server.calls.count("hello") == 1
    assert rig.agent.state.device is not None
    assert rig.shown() == sha(A)  # 02:00:05 is in A's span: (10 h + 5 s) mod 15 s = 5 s


def test_the_pairing_code_is_logged_once_for_an_install_over_ssh(
    server: FakeServer, make_rig: MakeRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="player.network")
    rig = make_rig(name="Lobby left")
    drive([rig], 12)  # several hellos, one code
    assert rig.agent.state.pairing is not None
    code = rig.agent.state.pairing.code
    logged = [r.getMessage() for r in caplog.records if "pairing code" in r.getMessage()]
    assert logged == [f"pairing code {code}: claim it in Signage Scheduler (Screens > Pair)"]


def test_a_refused_enrolment_token_falls_back_to_a_pairing_code(
    server: FakeServer, make_rig: MakeRig
) -> None:
    rig = make_rig(enrol_token="sge_expired")
    drive([rig], 3)
    assert rig.agent.state.device is None
    assert rig.agent.state.pairing is not None
    assert "enrolment token refused" in rig.agent.journal.peek("error", 5)[0].body


def test_a_revoked_token_is_forgotten_and_pairing_starts_again(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    rig = paired(server, make_rig)
    drive([rig], 5)
    assert (rig.data_dir / "manifest.json").exists()
    server.tokens.clear()  # an operator revoked the screen
    server.etag = '"v1-changed"'
    drive([rig], 60)
    assert not (rig.data_dir / "device.json").exists()
    assert not (rig.data_dir / "manifest.json").exists()
    assert rig.agent.state.device is None
    assert rig.shown() == "card:pairing"


def test_after_a_reboot_the_saved_manifest_plays_before_any_network_call(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    first = paired(server, make_rig)
    drive([first], 20)
    first.close()
    server.down = True
    calls = len(server.calls)
    again = make_rig("p1")  # same data dir
    again.agent.playback.step()
    assert len(server.calls) == calls  # the screen is up before the network is tried
    t = server.clock.wall()
    expected = sha(A) if (t - DAY0) % (15 * S) < 10 * S else sha(B)
    assert again.shown() == expected


def test_without_a_token_the_pairing_card_wins_over_a_saved_manifest(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    first = paired(server, make_rig)
    drive([first], 20)
    first.close()
    (first.data_dir / "device.json").unlink()  # how an installer asks for a new pairing
    again = make_rig("p1")
    drive([again], 3)
    assert again.shown() == "card:pairing"
    assert again.agent.state.pairing is not None


def test_two_skewed_players_flip_in_lockstep(server: FakeServer, make_rig: MakeRig) -> None:
    server.publish(*week())
    fast = paired(server, make_rig, "fast", skew=timedelta(milliseconds=4200), hardware_id="f")
    slow = paired(server, make_rig, "slow", skew=timedelta(milliseconds=-3700), hardware_id="s")
    drive([fast, slow], 5)
    drive([fast, slow], 120)
    assert [c[:4] for c in fast.changes()[-16:]] == [c[:4] for c in slow.changes()[-16:]]
    assert len(fast.changes()) >= 16
    # The offset each applied is the opposite of its skew.
    assert {c[4] for c in fast.changes()[-16:]} == {"-4200"}
    assert {c[4] for c in slow.changes()[-16:]} == {"+3700"}
    # And each change is on the server's clock, not the skewed local one.
    last_change = rig_time(fast.changes()[-1][0])
    assert (last_change - DAY0) % (15 * S) in (timedelta(0), 10 * S)


def test_offline_the_theme_day_still_changes_at_midnight(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    rig = paired(server, make_rig, skew=timedelta(seconds=-30))
    drive([rig], 10)
    assert rig.agent.cache.assets() == {sha(A), sha(B), sha(C)}  # tomorrow's too
    server.down = True
    drive([rig], 600)
    # Hours later, still offline: both of the player's clocks move on, and a step of its
    # wall clock on the way changes nothing.
    midnight = DAY0 + DAY
    server.clock.advance(
        (midnight - timedelta(seconds=20) - rig.agent.server_clock.now()).total_seconds()
    )
    rig.clock.skew += timedelta(hours=-1)
    drive([rig], 40)
    switch = [c for c in rig.changes() if c[2] == "finance-day"]
    assert switch[0][0] == iso_ms(midnight) and switch[0][1] == sha(C)


def test_a_new_manifest_waits_for_its_assets(server: FakeServer, make_rig: MakeRig) -> None:
    server.publish(*week())
    rig = paired(server, make_rig)
    drive([rig], 5)
    body = manifest_body(
        [
            segment(DAY0, DAY0 + DAY, "week", [(D, 15_000)]),
            segment(DAY0 + DAY, DAY0 + 2 * DAY, "finance-day", [(C, 8_000)]),
        ],
        [D, C],
        version="v2",
    )
    server.publish(body, [D])
    server.status = 503  # the media route is overloaded
    drive([rig], 31, only=("network", "playback"))
    drive([rig], 3)
    assert rig.agent.library.pending is not None and rig.agent.library.active is not None
    assert rig.agent.library.active.version == "v1"
    assert sha(D) not in {c[1] for c in rig.changes()}
    server.status, server.break_after = None, 60  # back, but the first transfer breaks
    drive([rig], 60)
    assert (f"/media/{sha(D)}.png", 60) in server.requests  # resumed where it broke
    assert rig.agent.library.active.version == "v2"
    assert rig.shown() == sha(D)
    assert json.loads((rig.data_dir / "manifest.json").read_text())["etag"] == '"v2"'


def test_a_corrupted_asset_is_refetched_and_never_shown(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    server.corrupt = True
    rig = paired(server, make_rig)
    drive([rig], 3)
    assert not rig.agent.cache.assets()
    assert any("hash" in e.body for e in rig.agent.journal.peek("error", 10))
    server.corrupt = False
    drive([rig], 700)  # after the asset's retry delay
    assert rig.agent.cache.assets() >= {sha(A), sha(B)}
    assert rig.shown() in (sha(A), sha(B))


def test_an_undecodable_asset_is_skipped_reported_and_never_blank(
    server: FakeServer, make_rig: MakeRig
) -> None:
    bogus = b"not a picture at all" * 20
    body = manifest_body(
        [segment(DAY0, DAY0 + DAY, "week", [(A, 10_000), (bogus, 5_000)])], [A, bogus]
    )
    server.publish(body, [A, bogus])
    rig = paired(server, make_rig)
    drive([rig], 120)
    assert {c[1] for c in rig.changes() if not c[1].startswith("card:")} == {sha(A)}
    assert sha(bogus) in rig.agent.playback.undecodable
    statuses = [s for s in server.statuses if s["errors"]]
    assert any("undecodable" in e for s in statuses for e in s["errors"])
    # The server keeps only the latest status: the problem stays in it while it lasts.
    drive([rig], 600)
    assert any("undecodable" in e for e in server.statuses[-1]["errors"])
    assert {c[1] for c in rig.changes() if not c[1].startswith("card:")} == {sha(A)}


def test_a_reported_problem_stays_in_the_status_for_a_while_then_leaves(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    rig = paired(server, make_rig)
    drive([rig], 5)
    rig.agent.report("manifest refused: something odd")
    drive([rig], ERROR_HOLD_S - 40)
    assert "manifest refused: something odd" in server.statuses[-1]["errors"]
    drive([rig], 120)  # the hold runs from the first poll that carried it
    assert server.statuses[-1]["errors"] == []
    assert rig.agent.journal.count("error") == 0


def test_nothing_displayable_shows_the_idle_card(server: FakeServer, make_rig: MakeRig) -> None:
    bogus = b"\x89PNG broken"
    body = manifest_body([segment(DAY0, DAY0 + DAY, "week", [(bogus, 5_000)])], [bogus])
    server.publish(body, [bogus])
    rig = paired(server, make_rig)
    drive([rig], 20)
    assert rig.shown() == "card:idle"


def test_plays_are_uploaded_then_deleted(server: FakeServer, make_rig: MakeRig) -> None:
    server.publish(*week())
    rig = paired(server, make_rig)
    drive([rig], 200)
    assert rig.agent.journal.count("play") <= 5  # those since the last poll
    plays = sorted(server.plays.values(), key=lambda e: e["start"])
    assert len(plays) >= 10
    full = plays[1:]  # the first one began when the player did, mid-item
    for event in full:
        length = rig_time(event["end"]) - rig_time(event["start"])
        assert length == (10 * S if event["asset"] == sha(A) else 5 * S)
        assert event["playlist"] == "week" and event["campaign"] == "Cybersecurity Week"
    assert all(a["end"] == b["start"] for a, b in zip(plays, plays[1:], strict=False))


def test_refused_plays_are_dropped_and_counted(server: FakeServer, make_rig: MakeRig) -> None:
    server.publish(*week())
    rig = paired(server, make_rig)
    drive([rig], 40)
    waiting = rig.agent.journal.peek("play", 1000)
    assert len(waiting) >= 2
    refused = waiting[0].body["id"]
    server.refuse_events = {refused}
    drive([rig], 120)
    assert rig.agent.journal.dropped() == 1
    assert refused not in server.plays
    assert all(e.body["id"] in server.plays for e in waiting[1:])
    assert server.statuses[-1]["dropped_events"] == 1
    assert any("refused 1 play events" in e for s in server.statuses for e in s["errors"])


def test_commands_are_executed_and_acknowledged(server: FakeServer, make_rig: MakeRig) -> None:
    body, media = week(commands=[{"id": 41, "kind": "screenshot"}, {"id": 42, "kind": "refresh"}])
    server.publish(body, media)
    rig = paired(server, make_rig)
    drive([rig], 5)
    assert sorted(server.acks) == [(41, True, "uploaded"), (42, True, "polled")]
    assert len(server.screenshots) == 1 and server.screenshots[0][:2] == b"\xff\xd8"
    body, media = week("v2", commands=[{"id": 43, "kind": "restart"}, {"id": 44, "kind": "dance"}])
    server.publish(body, media)
    drive([rig], 40)
    assert (43, True, "restarting") in server.acks
    assert (44, False, "unknown command 'dance'") in server.acks
    assert rig.agent.state.exit_code == EXIT_RESTART


def test_periodic_screenshots(server: FakeServer, make_rig: MakeRig) -> None:
    server.publish(*week())
    rig = paired(server, make_rig, screenshot_interval_s=60.0)
    drive([rig], 185)
    assert len(server.screenshots) == 3


def test_status_reports_screen_manifest_and_cache_shortage(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    rig = paired(server, make_rig, cache_quota_bytes=len(A) + len(B) + 10)  # C does not fit
    drive([rig], 100)
    status = server.statuses[-1]
    assert status["manifest"] == "v1"
    assert status["asset"] in (sha(A), sha(B)) and status["playlist"] == "week"
    assert status["cache_shortage_bytes"] == len(C)
    assert status["uptime_s"] >= 90 and status["disk_free_bytes"] > 0
    assert status["player_version"] == "0.1.0" and status["dropped_events"] == 0


def test_a_busy_server_is_left_alone_for_its_retry_after(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    rig = paired(server, make_rig)
    drive([rig], 5)
    server.busy = 120.0
    before = server.calls.count("manifest")
    while server.calls.count("manifest") == before:
        drive([rig], 0.5, only=("network",))
    drive([rig], 119, only=("network",))
    assert server.calls.count("manifest") - before == 1  # one refused poll, then quiet
    server.busy = None
    drive([rig], 2, only=("network",))
    assert server.calls.count("manifest") - before == 2


def test_an_unreachable_server_is_retried_with_growing_backoff(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.down = True
    rig = make_rig()
    drive([rig], 3600, only=("network",))
    hellos = server.calls.count("hello")
    # Doubling from 1 s to the 5-minute cap, full jitter: a few dozen tries in an hour.
    assert 10 <= hellos <= 40


def test_the_status_header_fits_even_with_many_errors(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    rig = paired(server, make_rig)
    for i in range(40):
        rig.agent.report(f"problem {i}: " + "x" * 300)
    drive([rig], 5)
    header_errors = server.statuses[-1]["errors"]
    assert 0 < len(header_errors) <= 10
    assert rig.agent.journal.count("error") == 40  # each stays for a while before it leaves


def test_polls_during_an_outage_never_wait_longer_than_the_poll_interval(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())  # polls every 30 s
    rig = paired(server, make_rig)
    drive([rig], 5)
    server.down = True
    before = server.calls.count("manifest")
    for _ in range(20):  # never a gap longer than the interval and its 10 % jitter
        polls = server.calls.count("manifest")
        drive([rig], 33, only=("network",))
        assert server.calls.count("manifest") > polls
    # Quick retries at first, then the usual pace: not much more than a poll an interval.
    assert server.calls.count("manifest") - before <= 20 * 33 / 27 + 6
    server.down = False
    polls = server.calls.count("manifest")
    drive([rig], 30, only=("network",))
    assert server.calls.count("manifest") > polls  # back within one interval


def test_downloads_resume_as_soon_as_a_poll_finds_the_server_back(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    rig = paired(server, make_rig)
    server.status = 503  # media refused for a long while: the downloads back off far
    drive([rig], 600)
    assert not rig.agent.cache.assets()
    server.status = None
    drive([rig], 35)  # one poll interval: that poll's answer wakes the downloads
    assert rig.agent.cache.assets() >= {sha(A), sha(B)}


def test_bad_bytes_are_fetched_again_after_a_growing_delay(
    server: FakeServer, make_rig: MakeRig
) -> None:
    server.publish(*week())
    server.corrupt = True
    rig = paired(server, make_rig)

    def asked() -> int:
        return len([u for u, _ in server.requests if sha(A) in u])

    drive([rig], 1.5)  # the first download comes one second in
    assert asked() == 1  # refused, and not asked for again at once
    drive([rig], 2.5)
    assert asked() == 2  # 1-2 s later
    drive([rig], 1.5)
    assert asked() == 2  # then 2-4 s after that
    server.corrupt = False
    drive([rig], 5)
    assert sha(A) in rig.agent.cache.assets()


def test_room_made_by_a_past_segment_is_used_at_once(server: FakeServer, make_rig: MakeRig) -> None:
    morning = DAY0 + timedelta(hours=10)  # T0 is 10:00 in Shanghai; A until 10:00:20
    body = manifest_body(
        [
            segment(DAY0, morning + 20 * S, "morning", [(A, 10_000)]),
            segment(morning + 20 * S, DAY0 + DAY, "afternoon", [(B, 5_000), (C, 5_000)]),
        ],
        [A, B, C],
    )
    server.publish(body, [A, B, C])
    rig = paired(server, make_rig, cache_quota_bytes=len(A) + len(B) + 10)
    drive([rig], 5)
    assert rig.agent.cache.assets() == {sha(A), sha(B)}  # C does not fit while A is needed
    assert rig.agent.state.cache_shortage_bytes == len(C)
    drive([rig], 20)  # A's segment is over: it makes room for C, long before 5 minutes
    assert rig.agent.cache.assets() == {sha(B), sha(C)}
    assert rig.agent.state.cache_shortage_bytes == 0
    assert {c[1] for c in rig.changes()[-2:]} <= {sha(B), sha(C)}


def test_a_download_a_full_disk_refused_is_retried_once_there_is_room(
    server: FakeServer, make_rig: MakeRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.publish(*week())
    rig = paired(server, make_rig)
    disk = {"full": True}
    fetch = rig.agent.cache.fetch

    def on_a_disk(ref: Any, *args: Any, **kw: Any) -> Any:
        if disk["full"] and ref.sha256 == sha(C):
            raise CacheFull(ref.size, f"disk full storing asset {ref.sha256[:12]}", disk=True)
        return fetch(ref, *args, **kw)

    monkeypatch.setattr(rig.agent.cache, "fetch", on_a_disk)
    monkeypatch.setattr(fetcher, "disk_free", lambda _path: 0 if disk["full"] else 10**9)
    drive([rig], 10)
    assert rig.agent.cache.assets() == {sha(A), sha(B)}
    assert rig.agent.state.cache_shortage_bytes == len(C)
    disk["full"] = False  # room again (an operator cleared the disk)
    drive([rig], 5)  # long before the 5 minutes a full disk sets a download aside for
    assert rig.agent.cache.assets() == {sha(A), sha(B), sha(C)}
    assert rig.agent.state.cache_shortage_bytes == 0
