"""Real `signage-player` processes for tests, and what they leave behind: the change log
(`Change`), the protocol's rotation as an oracle (`slot_at`), and polling with a deadline."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from tests.integration.conftest import VENV_BIN

T = TypeVar("T")
STOP_TIMEOUT_S = 15.0


def wait_for(
    condition: Callable[[], T | None],
    what: str,
    timeout: float = 30.0,
    describe: Callable[[], str] | None = None,
) -> T:
    """Poll `condition` until it returns something truthy (returned); fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{describe()}" if describe else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}{extra}")
        time.sleep(0.05)  # polling a condition, not waiting for time to pass


def floor_ms(instant: datetime) -> datetime:
    """`instant` to the whole millisecond below, as the protocol writes instants."""
    return instant.replace(microsecond=instant.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Change:
    """One line of a headless player's `changes.log`: the corrected instant of the change,
    what came on screen, and the correction (server − local clock) the player applied."""

    at: datetime
    name: str
    playlist: str | None
    transition: str
    offset: timedelta

    @property
    def is_card(self) -> bool:
        return self.name.startswith("card:")

    @property
    def local(self) -> datetime:
        """The player's own (uncorrected) clock at the change."""
        return self.at - self.offset


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_changes(text: str) -> list[Change]:
    changes = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 5 or not line.endswith(parts[4]):
            continue  # a line being written right now
        at, name, playlist, transition, offset = parts
        changes.append(
            Change(
                parse_instant(at),
                name,
                None if playlist == "-" else playlist,
                transition,
                timedelta(milliseconds=int(offset)),
            )
        )
    return changes


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(instant: datetime) -> int:
    return (instant - EPOCH) // timedelta(milliseconds=1)


def slot_at(manifest: Mapping[str, Any], at: datetime) -> tuple[str | None, datetime]:
    """What the protocol puts on screen at `at`, every asset being at hand, and since when:
    (asset or None for the idle card, start of its span)."""
    t = ms(at)
    segments = manifest["segments"]
    segment = next(
        (s for s in segments if ms(parse_instant(s["start"])) <= t < ms(parse_instant(s["end"]))),
        segments[-1],
    )
    start = ms(parse_instant(segment["start"]))
    items = segment["items"]
    if not items:
        return None, EPOCH + timedelta(milliseconds=start)
    cycle = sum(i["duration_ms"] for i in items)
    pos = (t - ms(parse_instant(segment["anchor"]))) % cycle
    for item in items:
        if pos < item["duration_ms"]:
            begin = max(t - pos, start)
            return str(item["asset"]), EPOCH + timedelta(milliseconds=begin)
        pos -= item["duration_ms"]
    raise AssertionError("unreachable: pos < cycle")


@dataclass
class PlayerProcess:
    """One `signage-player --display headless` process and its data directory."""

    data_dir: Path
    args: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    _log: Any = field(default=None, repr=False)
    # Where its output goes; by default in its data directory (a test that fills that
    # directory's file system keeps the output elsewhere).
    output: Path | None = None

    @property
    def log_path(self) -> Path:
        return self.output or self.data_dir / "stderr.log"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def fake_time_file(self) -> Path:
        return self.data_dir / "fake-time-ms"

    def start(self) -> PlayerProcess:
        assert not self.alive(), "this player is running already"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            [str(VENV_BIN / "signage-player"), *self.args],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a power cut or the OOM killer would."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT_S)
        self._close_log()

    def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL after a grace period); the exit code."""
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    code = self.process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    code = self.process.wait()
            else:
                code = self.process.returncode
        self._close_log()
        return code

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> PlayerProcess:
        self.stop()
        return self.start()

    def log(self, tail: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-tail:])

    def changes(self) -> list[Change]:
        path = self.data_dir / "changes.log"
        return parse_changes(path.read_text(encoding="utf-8")) if path.exists() else []

    def device(self) -> dict[str, Any] | None:
        try:
            value = json.loads((self.data_dir / "device.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def screen_id(self) -> int | None:
        device = self.device()
        return int(device["screen_id"]) if device and device.get("screen_id") else None

    def saved_manifest(self) -> dict[str, Any] | None:
        try:
            value = json.loads((self.data_dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return value.get("manifest") if isinstance(value, dict) else None

    def cached(self) -> set[str]:
        """Complete assets in the cache (named by their SHA-256)."""
        if not self.cache_dir.is_dir():
            return set()
        return {p.name for p in self.cache_dir.iterdir() if len(p.name) == 64}

    def shift_clock(self, delta: timedelta) -> None:
        """Move this player's wall clock by `delta` from the real one (atomically)."""
        temp = self.fake_time_file.with_name(self.fake_time_file.name + ".tmp")
        temp.write_text(f"{delta / timedelta(milliseconds=1):.3f}\n", encoding="ascii")
        os.replace(temp, self.fake_time_file)
