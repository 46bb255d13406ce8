"""The player's clocks and the NTP-style offset estimate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from player.clock import (
    FileOffsetClock,
    OffsetEstimator,
    ServerClock,
    SkewedClock,
    SystemClock,
    from_ms,
    iso_ms,
    to_ms,
)
from tests.player.fakes import FakeClock

T = datetime(2022, 9, 5, 2, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)


def exchange(
    est: OffsetEstimator, local: FakeClock, true_now: datetime, out_s: float, back_s: float
) -> None:
    """One request from a player on `local`: `out_s` to reach the server, `back_s` to return."""
    sent_wall, sent_mono = local.wall(), local.monotonic()
    server = true_now + timedelta(seconds=out_s)
    est.add(sent_wall, sent_mono, sent_mono + out_s + back_s, server)


def test_instants_round_trip_through_milliseconds() -> None:
    assert to_ms(from_ms(1662343200123)) == 1662343200123
    assert iso_ms(from_ms(1662343200123)) == "2022-09-05T02:00:00.123Z"
    assert to_ms(T + timedelta(microseconds=999)) == to_ms(T)  # floored


def test_offset_is_server_minus_midpoint_with_half_round_trip_error() -> None:
    local = FakeClock(T - timedelta(seconds=5))  # 5 s slow
    est = OffsetEstimator()
    sample = est.add(local.wall(), 100.0, 100.2, T + timedelta(seconds=0.1))
    assert sample.offset == timedelta(seconds=5)
    assert sample.error == timedelta(seconds=0.1)
    assert est.offset == timedelta(seconds=5)


def test_no_sample_means_no_correction() -> None:
    assert OffsetEstimator().offset == timedelta(0)
    assert OffsetEstimator().best() is None


def test_the_shortest_round_trip_wins_over_asymmetric_slow_ones() -> None:
    local = FakeClock(T - timedelta(seconds=3))
    est = OffsetEstimator()
    exchange(est, local, T, out_s=0.9, back_s=0.1)  # asymmetric: estimate off by 0.4 s
    exchange(est, local, T, out_s=0.01, back_s=0.01)
    exchange(est, local, T, out_s=0.1, back_s=0.7)
    best = est.best()
    assert best is not None and best.round_trip == timedelta(seconds=0.02)
    assert abs(est.offset - timedelta(seconds=3)) <= best.error


def test_every_estimate_is_within_its_error_bound() -> None:
    local = FakeClock(T + timedelta(seconds=7.25))  # 7.25 s fast
    est = OffsetEstimator()
    for out_s, back_s in [(0.3, 0.0), (0.0, 0.3), (0.05, 0.2), (1.5, 0.01)]:
        sample = est.add(local.wall(), 0.0, out_s + back_s, T + timedelta(seconds=out_s))
        assert abs(sample.offset - timedelta(seconds=-7.25)) <= sample.error


def test_only_the_last_samples_are_kept() -> None:
    local = FakeClock(T)
    est = OffsetEstimator(keep=3)
    exchange(est, local, T, 0.001, 0.001)
    for _ in range(3):
        exchange(est, local, T, 0.2, 0.2)
    best = est.best()
    assert best is not None and best.round_trip == timedelta(seconds=0.4)


def test_a_server_clock_step_discards_the_samples_taken_before_it() -> None:
    local = FakeClock(T)
    est = OffsetEstimator()
    exchange(est, local, T, 0.001, 0.001)  # excellent sample: offset 0
    exchange(est, local, T + timedelta(hours=1), 0.2, 0.2)  # worse, but the only truth now
    assert abs(est.offset - timedelta(hours=1)) < timedelta(milliseconds=250)
    assert abs(ServerClock(local, est).now() - (T + timedelta(hours=1))) < timedelta(seconds=0.25)


@pytest.mark.parametrize("step", [timedelta(hours=-1), timedelta(hours=1)])
def test_a_local_wall_clock_step_does_not_move_the_corrected_time(step: timedelta) -> None:
    local = FakeClock(T)
    est = OffsetEstimator()
    exchange(est, local, T, 0.001, 0.001)
    corrected = ServerClock(local, est)
    local.advance(10)
    local.step_wall(step)  # NTP, an operator, a bad RTC, or the fake-time file
    assert abs(corrected.now() - (T + timedelta(seconds=10))) <= timedelta(milliseconds=2)
    assert abs(corrected.correction() + step) <= timedelta(milliseconds=2)
    # The next exchange agrees with the anchored ones: nothing is discarded.
    exchange(est, local, T + timedelta(seconds=10), 0.2, 0.2)
    best = est.best()
    assert best is not None and best.round_trip == timedelta(seconds=0.002)
    local.advance(5)
    assert abs(corrected.now() - (T + timedelta(seconds=15))) <= timedelta(milliseconds=2)


def test_before_any_sample_the_corrected_time_is_the_local_wall_clock() -> None:
    local = FakeClock(T)
    corrected = ServerClock(local, OffsetEstimator())
    local.step_wall(timedelta(hours=-1))
    assert corrected.now() == T - timedelta(hours=1)


def test_server_clock_cancels_a_skewed_local_clock() -> None:
    true = FakeClock(T)
    skewed = SkewedClock(true, timedelta(milliseconds=-4321))
    est = OffsetEstimator()
    est.add(skewed.wall(), skewed.monotonic(), skewed.monotonic() + 0.05, true.wall())
    corrected = ServerClock(skewed, est)
    assert abs(corrected.now() - true.wall()) <= timedelta(seconds=0.025)
    true.advance(600)
    assert abs(corrected.now() - true.wall()) <= timedelta(seconds=0.025)


def test_skewed_clock_moves_wall_time_only() -> None:
    base = FakeClock(T, monotonic=50.0)
    skewed = SkewedClock(base, timedelta(seconds=2))
    assert skewed.wall() == T + timedelta(seconds=2)
    assert skewed.monotonic() == 50.0
    skewed.sleep(3)
    assert base.wall() == T + timedelta(seconds=3)


def test_fake_time_file_shifts_the_wall_clock_while_running(tmp_path: Path) -> None:
    base = FakeClock(T)
    path = tmp_path / "offset"
    clock = FileOffsetClock(base, path)
    assert clock.wall() == T  # no file: no shift
    path.write_text("-3600000\n")
    assert clock.wall() == T - timedelta(hours=1)
    path.write_text("1500.5")
    assert clock.wall() == T + timedelta(milliseconds=1500.5)
    path.write_text("not a number")
    assert clock.wall() == T
    path.write_text("250")
    path.unlink()
    assert clock.wall() == T


def test_fake_clock_only_moves_when_told() -> None:
    clock = FakeClock(T)
    assert clock.wall() == T
    clock.sleep(1.5)
    assert clock.wall() == T + timedelta(seconds=1.5)
    assert clock.slept == [1.5]
    with pytest.raises(ValueError):
        FakeClock(datetime(2022, 1, 1))  # noqa: DTZ001 - the point of the test


def test_system_clock_is_aware_utc() -> None:
    clock = SystemClock()
    assert clock.wall().tzinfo is UTC
    assert clock.monotonic() <= clock.monotonic()
