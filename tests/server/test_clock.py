"""The test-and-demo FileClock: an instant or an offset written to a file, re-read on change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.clock import FileClock, SettableClock, write_clock_file
from server.errors import ConfigError

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_file_clock_follows_its_file(tmp_path: Path) -> None:
    system = SettableClock(T0)
    path = tmp_path / "clock"
    clock = FileClock(path, system)
    assert clock.now() == T0  # no file: the system clock
    write_clock_file(path, datetime(2030, 1, 1, 8, tzinfo=UTC))
    assert clock.now() == datetime(2030, 1, 1, 8, tzinfo=UTC)
    system.advance(timedelta(hours=1))
    assert clock.now() == datetime(2030, 1, 1, 8, tzinfo=UTC)  # an instant stands still
    write_clock_file(path, timedelta(seconds=-90))
    assert clock.now() == T0 + timedelta(hours=1, seconds=-90)  # an offset runs along
    path.write_text("2026-02-03T04:05:06.789+08:00\n")
    assert clock.now() == datetime(2026, 2, 2, 20, 5, 6, 789000, tzinfo=UTC)
    path.write_text("")
    assert clock.now() == T0 + timedelta(hours=1)


@pytest.mark.parametrize("text", ["soon", "+ten", "2026-01-05T09:00:00"])
def test_a_bad_clock_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "clock"
    path.write_text(text)
    with pytest.raises(ConfigError, match="clock file"):
        FileClock(path).now()
