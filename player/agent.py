"""The player's loop: wires cache, journal, manifests, display and server, and runs them.

Three schedulers, each a `step() -> seconds until the next wake-up`:
playback (on the main thread, which owns the display), network (polls, uploads, commands)
and fetcher (downloads), the last two on their own threads so that a slow server never
delays a change on screen. Tests drive the steps directly with a fake clock.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from player import __version__
from player.cache import Cache
from player.client import ServerClient
from player.clock import Clock, OffsetEstimator, ServerClock
from player.display import Display, DisplayKind, open_display
from player.fetcher import Fetcher
from player.journal import Journal
from player.keys import DeviceKey
from player.library import Library
from player.manifest import ManifestStore
from player.network import Network
from player.playback import FrameSource, Playback
from player.protocol import HelloRequest, ServerApi
from player.sdnotify import notify
from player.state import DeviceStore, SharedState, detect_hardware_id

log = logging.getLogger(__name__)

EXIT_OK = 0
MAX_SLEEP_S = 0.5  # re-evaluate at least this often: window events, clock steps, stop requests
STALE_AFTER_S = 180.0  # a worker silent this long is stuck: stop feeding the watchdog
WATCHDOG_EVERY_S = 5.0  # the unit's WatchdogSec must be well above this


@dataclass(frozen=True)
class Settings:
    server: str
    data_dir: Path
    display: DisplayKind = "headless"
    size: tuple[int, int] | None = None
    enrol_token: str | None = None
    name: str | None = None
    hardware_id: str | None = None
    cache_quota_bytes: int = 2 * 1024**3
    screenshot_interval_s: float = 300.0
    font: str | None = None
    verify_cache: bool = False
    max_journal_rows: int = 100_000


class Agent:
    """One player. `run()` blocks until stopped and returns the process exit code."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock,
        api: ServerApi,
        display: Display,
        estimator: OffsetEstimator,
        rng: random.Random | None = None,
    ) -> None:
        data = settings.data_dir
        data.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.clock = clock
        self.display = display
        self.server_clock = ServerClock(clock, estimator)
        self.cache = Cache(data / "cache", settings.cache_quota_bytes)
        report = self.cache.open(verify=settings.verify_cache)
        log.info(
            "cache: %d assets, %d bytes, %d partial", report.assets, report.bytes, report.parts
        )
        self.journal = Journal(data / "journal.db", max_rows=settings.max_journal_rows)
        self.devices = DeviceStore(data / "device.json")
        self.state = SharedState(self.devices.load())
        self.library = Library(
            ManifestStore(data / "manifest.json"), self.cache, on_activate=self.state.woken.set
        )
        self.library.load()
        self._beats: dict[str, float] = {}
        self._closed = False
        self.playback = Playback(
            display=display,
            frames=FrameSource(
                self.cache,
                display.size,
                server=settings.server,
                name=settings.name,
                font_path=settings.font,
            ),
            library=self.library,
            cache=self.cache,
            journal=self.journal,
            state=self.state,
            clock=self.server_clock,
            report=self.report,
        )
        hello = HelloRequest(
            hardware_id=settings.hardware_id or detect_hardware_id(data),
            player_version=__version__,
            width=display.size[0],
            height=display.size[1],
            name=settings.name,
            enrol_token=settings.enrol_token,
        )
        self.network = Network(
            api=api,
            library=self.library,
            journal=self.journal,
            state=self.state,
            devices=self.devices,
            hello=hello,
            key=DeviceKey.load_or_create(data),
            clock=clock,
            server_clock=self.server_clock,
            server_url=settings.server,
            data_dir=data,
            report=self.report,
            screenshot_interval_s=settings.screenshot_interval_s,
            rng=rng,
        )
        self.fetcher = Fetcher(
            source=api,
            library=self.library,
            cache=self.cache,
            state=self.state,
            clock=clock,
            server_clock=self.server_clock,
            report=self.report,
            beat=lambda: self._beat("fetcher"),
            rng=rng,
        )

    def report(self, message: str) -> None:
        """A problem an admin should see: logged, and queued for the status header."""
        log.warning("%s", message)
        self.journal.append_error(message)

    def stop(self, code: int = EXIT_OK) -> None:
        self.state.stop(code)

    def _beat(self, name: str) -> None:
        self._beats[name] = self.clock.monotonic()

    def healthy(self) -> bool:
        """Every worker loop has made progress lately."""
        now = self.clock.monotonic()
        return all(now - seen < STALE_AFTER_S for seen in self._beats.values())

    def _worker(self, name: str, step: Callable[[], float]) -> None:
        while not self.state.stopping:
            self._beat(name)
            try:
                delay = step()
            except Exception:  # a bug in one step must not stop the screen
                log.exception("%s step failed", name)
                delay = 5.0
            self._sleep(delay, name)

    def _sleep(self, delay: float, name: str) -> None:
        deadline = self.clock.monotonic() + delay
        while not self.state.stopping:
            self._beat(name)
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                return
            self.clock.sleep(min(remaining, MAX_SLEEP_S))

    def run(self) -> int:
        """Show the first frame (from the cache, before any network call), then loop."""
        self.playback.step()
        notify("READY=1")
        workers = [
            threading.Thread(target=self._worker, args=(n, s), name=n, daemon=True)
            for n, s in (("network", self.network.step), ("fetcher", self.fetcher.step))
        ]
        for worker in workers:
            worker.start()
        fed = self.clock.monotonic()
        try:
            while not self.state.stopping:
                try:
                    delay = self.playback.step()
                except Exception:
                    log.exception("playback step failed")
                    delay = 1.0
                if not self.display.pump():
                    self.stop(EXIT_OK)
                if self.healthy() and self.clock.monotonic() - fed >= WATCHDOG_EVERY_S:
                    notify("WATCHDOG=1")
                    fed = self.clock.monotonic()
                # Until the next change, unless the other loops have news for the screen.
                self.state.woken.wait(min(delay, MAX_SLEEP_S))
                self.state.woken.clear()
        finally:
            notify("STOPPING=1")
            self.close(workers)
        code = self.state.exit_code
        return EXIT_OK if code is None else code

    def close(self, workers: list[threading.Thread] | None = None) -> None:
        """Record the play on screen, let the workers finish, release files and display."""
        if self._closed:
            return
        self._closed = True
        self.state.stop(EXIT_OK)
        self.playback.close()
        for worker in workers or []:
            worker.join(timeout=2.0)
        self.journal.close()
        self.display.close()


def build_agent(settings: Settings, clock: Clock, rng: random.Random | None = None) -> Agent:
    """An agent with the real HTTP client and the display the settings ask for."""
    estimator = OffsetEstimator()
    api = ServerClient(settings.server, clock=clock, estimator=estimator)
    display = open_display(
        settings.display,
        settings.size,
        data_dir=settings.data_dir,
        sleep=clock.sleep,
        offset=ServerClock(clock, estimator).correction,
    )
    return Agent(settings, clock=clock, api=api, display=display, estimator=estimator, rng=rng)
