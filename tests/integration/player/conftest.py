"""Real `signage-player` processes against a real server (`start_server`), and the content
they play, put on the server through its own services and operator API.

    def test_x(start_server, start_player, content_for):
        server = start_server(settings={"poll_interval_s": 2})
        content = content_for(server)                    # images, campaigns, publishing
        token = content.enrolment_token()
        player = start_player(server.base_url, enrol_token=token)  # headless, own data dir
        wait_for(lambda: player.changes(), "a first change")

Nothing here sleeps for time to pass: `wait_for` polls a condition until a deadline.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from PIL import Image

from tests.integration.conftest import VENV_BIN, ServerProcess

T = TypeVar("T")
TIMEOUT = 10
SHANGHAI = "Asia/Shanghai"
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


# -- media --------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def noise_png(seed: int, size: tuple[int, int]) -> bytes:
    """Random pixels: PNG cannot compress them, so the file is about 3 bytes a pixel."""
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


# -- players ------------------------------------------------------------------------------


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

    @property
    def log_path(self) -> Path:
        return self.data_dir / "stderr.log"

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


StartPlayer = Callable[..., PlayerProcess]


@pytest.fixture
def start_player(tmp_path: Path) -> Iterator[StartPlayer]:
    """A factory of headless player processes; all are stopped after the test."""
    started: list[PlayerProcess] = []

    def start(
        server_url: str,
        name: str = "player",
        *,
        enrol_token: str | None = None,
        size: tuple[int, int] = (320, 180),
        skew_ms: int = 0,
        fake_time: bool = False,
        cache_quota: str | None = None,
        extra: Sequence[str] = (),
        launch: bool = True,
    ) -> PlayerProcess:
        data_dir = tmp_path / "players" / name
        args = [
            "--server",
            server_url,
            "--data-dir",
            str(data_dir),
            "--display",
            "headless",
            "--size",
            f"{size[0]}x{size[1]}",
            "--hardware-id",
            f"it-{name}",
            "--name",
            name,
            "--screenshot-interval",
            "0",
            "--log-level",
            "INFO",
        ]
        if enrol_token:
            args += ["--enrol-token", enrol_token]
        if skew_ms:
            args += ["--clock-skew-ms", str(skew_ms)]
        if cache_quota:
            args += ["--cache-quota", cache_quota]
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("SIGNAGE_") and k not in ("DISPLAY", "WAYLAND_DISPLAY")
        }
        env.pop("NOTIFY_SOCKET", None)
        player = PlayerProcess(data_dir, args, env)
        if fake_time:
            player.args += ["--fake-time-file", str(player.fake_time_file)]
        started.append(player)
        return player.start() if launch else player

    yield start
    for player in started:
        player.stop()


# -- content on the server ----------------------------------------------------------------


def server_now(server: ServerProcess) -> datetime:
    """The server's clock, read the way the server reads it."""
    from server.clock import FileClock

    return FileClock(server.clock_file).now()


@dataclass
class Content:
    """Images, campaigns and publications on one server, through its services and API."""

    server: ServerProcess
    organisation_id: int
    headers: dict[str, str]

    def now(self) -> datetime:
        return server_now(self.server)

    def image(self, data: bytes, name: str = "poster.png") -> int:
        """Import an image as an operator's upload would; the asset's id."""
        from server.assets import import_stream
        from server.models import Organisation

        with self.server.session() as session:
            org = session.get(Organisation, self.organisation_id)
            assert org is not None
            asset = import_stream(
                session, self.server.store(), org, io.BytesIO(data), name, self.now()
            )
            session.flush()
            return int(asset.id)

    def campaign(
        self,
        name: str,
        playlists: Mapping[str, Sequence[tuple[int, int]]],
        entries: Sequence[Mapping[str, Any]],
        *,
        timezone: str = SHANGHAI,
        start: date | None = None,
        end: date | None = None,
        transition: str = "cut",
    ) -> int:
        """A draft campaign: playlists of (asset id, duration ms); entries name a playlist."""
        from server.models import (
            Asset,
            Campaign,
            CampaignStatus,
            Playlist,
            PlaylistItem,
            ScheduleEntry,
        )

        now = self.now()
        today = now.date()
        with self.server.session() as session:
            row = Campaign(
                organisation_id=self.organisation_id,
                name=name,
                description="",
                timezone=timezone,
                start_date=start or today - timedelta(days=7),
                end_date=end or today + timedelta(days=30),
                targets={"everyone": True},
                status=CampaignStatus.DRAFT,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            made: dict[str, Playlist] = {}
            for pl_name, items in playlists.items():
                playlist = Playlist(
                    organisation_id=self.organisation_id,
                    campaign_id=row.id,
                    name=pl_name,
                    description="",
                    is_default=False,
                    created_at=now,
                    updated_at=now,
                )
                playlist.items = [
                    PlaylistItem(
                        position=i,
                        asset_id=asset_id,
                        asset=session.get(Asset, asset_id),
                        duration_ms=ms,
                        transition=transition,
                    )
                    for i, (asset_id, ms) in enumerate(items)
                ]
                session.add(playlist)
                made[pl_name] = playlist
            session.flush()
            for i, entry in enumerate(entries):
                fields = dict(entry)
                playlist = made[fields.pop("playlist")]
                row.entries.append(
                    ScheduleEntry(position=i, playlist_id=playlist.id, playlist=playlist, **fields)
                )
            session.flush()
            return int(row.id)

    def publish(self, campaign_id: int) -> datetime:
        """Publish through the workflow (as an approver would); the instant it takes effect."""
        from server.campaigns import workflow
        from server.models import Campaign

        with self.server.session() as session:
            row = session.get(Campaign, campaign_id)
            assert row is not None
            publication = workflow.publish(
                session, row, workflow.SYSTEM, self.now(), self.server.settings()
            )
            return publication.effective_at.astimezone(UTC)

    def archive(self, campaign_id: int) -> None:
        from server.campaigns import workflow
        from server.models import Campaign

        with self.server.session() as session:
            row = session.get(Campaign, campaign_id)
            assert row is not None
            workflow.archive(session, row, workflow.SYSTEM, self.now(), self.server.settings())

    def enrolment_token(self, max_uses: int = 10, timezone: str = SHANGHAI) -> str:
        """A new enrolment token for the organisation, over the operator API."""
        expires = (self.now() + timedelta(days=30)).isoformat()
        r = requests.post(
            self.server.url(f"/api/v1/organisations/{self.organisation_id}/enrolment-tokens"),
            json={"expires_at": expires, "max_uses": max_uses, "timezone": timezone},
            headers=self.headers,
            timeout=TIMEOUT,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    def screen(self, screen_id: int) -> dict[str, Any]:
        """The operator's view of a screen (GET /api/v1/screens/{id})."""
        r = requests.get(
            self.server.url(f"/api/v1/screens/{screen_id}"), headers=self.headers, timeout=TIMEOUT
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def deliver(self, asset_id: int, screen: tuple[int, int], fit: str = "contain") -> str:
        """The SHA-256 of what a screen of that size downloads for an asset (rendered now,
        as the first poll would)."""
        from server.delivery import deliver
        from server.media.profiles import parse_profiles
        from server.models import Asset

        settings = self.server.settings()
        with self.server.session() as session:
            asset = session.get(Asset, asset_id)
            assert asset is not None
            delivered = deliver(
                session,
                self.server.store(),
                asset,
                *screen,
                fit,
                profiles=parse_profiles(settings.screen_profiles),
                now=self.now(),
            )
            return delivered.sha256

    def damaged_rendering(self, asset_id: int, profile: str, data: bytes) -> str:
        """Make `data` the asset's rendering for `profile` (as a faulty renderer or a bad
        disk might have left it): the server serves it as the poster; its SHA-256."""
        from server.models import Asset, Variant

        sha = self.server.store().put_bytes(data)
        width, height = (int(v) for v in profile.split("x"))
        with self.server.session() as session:
            asset = session.get(Asset, asset_id)
            assert asset is not None
            session.add(
                Variant(
                    source_sha256=asset.sha256,
                    profile=profile,
                    fit="contain",
                    background="#000000",
                    sha256=sha,
                    media_type="image/png",
                    size=len(data),
                    width=width,
                    height=height,
                    created_at=self.now(),
                )
            )
        return str(sha)


ContentFor = Callable[[ServerProcess], Content]


@pytest.fixture
def content_for() -> ContentFor:
    def make(server: ServerProcess) -> Content:
        admin = server.seed_admin()
        return Content(server, admin.organisation_id, admin.headers)

    return make
