"""The talking side of the agent: pairing, polls, proof-of-play uploads, commands, screenshots.

`Network.step()` does what is due and returns the seconds until something else is; every
interval is on the monotonic clock, every failure backs off (full jitter, `Retry-After`).
"""

from __future__ import annotations

import logging
import random
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from player.client import Backoff, jittered
from player.clock import Clock, ServerClock
from player.errors import (
    EnrolmentRefused,
    ManifestInvalid,
    PlayerError,
    ServerRefused,
    Unauthorized,
)
from player.journal import Journal
from player.keys import DeviceKey
from player.library import Library
from player.manifest import Command
from player.protocol import HelloRequest, Paired, ServerApi
from player.state import Device, DeviceStore, SharedState
from player.status import Status, disk_free, encode_status

log = logging.getLogger(__name__)

EXIT_RESTART = 75  # the `restart` command: exit so the service manager starts us again
DEFAULT_POLL_S = 30.0
PLAYS_BATCH = 1000
STATUS_ERRORS = 10
# The server keeps only a screen's latest status, written every few seconds: an error sent
# once could be overwritten before anyone saw it. Each stays in the status this long.
ERROR_HOLD_S = 300.0
_SCREENSHOT_WAIT_S = 0.25
_EVENT_INDEX = re.compile(r"^events\[(\d+)\]")


class Network:
    def __init__(
        self,
        *,
        api: ServerApi,
        library: Library,
        journal: Journal,
        state: SharedState,
        devices: DeviceStore,
        hello: HelloRequest,
        key: DeviceKey | None,
        clock: Clock,
        server_clock: ServerClock,
        server_url: str,
        data_dir: Path,
        report: Callable[[str], None],
        screenshot_interval_s: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self._api = api
        self._library = library
        self._journal = journal
        self._state = state
        self._devices = devices
        self._hello = hello
        self._key = key
        self._bind_tried = False  # this run: the server does not know the route, or refused
        self._clock = clock
        self._server_clock = server_clock
        self._server_url = server_url
        self._data_dir = data_dir
        self._report = report
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self._started = clock.monotonic()
        now = self._started
        self._hello_due = self._poll_due = self._upload_due = now
        self._shot_interval = screenshot_interval_s
        self._shot_due = now + screenshot_interval_s if screenshot_interval_s > 0 else None
        self._shot_wanted_for: list[int | None] = []  # command ids (None: periodic)
        self._backoff = Backoff(rng=self._rng)
        self._upload_backoff = Backoff(rng=self._rng)
        active = library.active
        self.poll_interval_s = active.poll_interval_s if active else DEFAULT_POLL_S
        self._commands: OrderedDict[int, Command] = OrderedDict()
        self._done: OrderedDict[int, None] = OrderedDict()  # ids executed (and acked)
        self._unacked: OrderedDict[int, tuple[bool, str]] = OrderedDict()
        self._carried: dict[int, float] = {}  # error row ▸ when a poll first delivered it

    # -- the scheduler ------------------------------------------------------------------

    def step(self) -> float:
        """Run what is due; return seconds until the next thing is."""
        now = self._clock.monotonic()
        device = self._state.device
        if device is None:
            if now >= self._hello_due:
                self._say_hello(now)
            return max(0.0, self._hello_due - now)
        if now >= self._poll_due:
            self._poll(device, now)
        device = self._state.device
        if device is None:  # the poll was refused: pair again
            return 0.0
        if now >= self._upload_due:
            self._upload_plays(device, now)
        self._acks(device)
        self._run_commands(device, now)
        self._screenshots(device, now)
        dues = [self._poll_due, self._upload_due]
        if self._shot_due is not None:
            dues.append(self._shot_due)
        if self._shot_wanted_for or self._commands:
            dues.append(now + _SCREENSHOT_WAIT_S)
        if self._unacked:
            dues.append(now + self._backoff.ceiling())
        return max(0.0, min(dues) - self._clock.monotonic())

    def refresh(self) -> None:
        """Poll at the next step, whatever the interval."""
        self._poll_due = self._clock.monotonic()

    # -- pairing --------------------------------------------------------------------------

    def _signed_hello(self) -> HelloRequest:
        """The hello with a fresh proof of the device key, signed at the server's time."""
        if self._key is None:
            return self._hello
        proof = self._key.prove(self._hello.hardware_id, self._server_clock.now())
        return replace(self._hello, proof=proof)

    def _say_hello(self, now: float) -> None:
        try:
            answer = self._api.hello(self._signed_hello())
        except ServerRefused as exc:
            # A refused enrolment token, or a hardware id whose screen this player may not
            # take with it (409): pair by code, so an operator can decide.
            if self._hello.enrol_token and (isinstance(exc, EnrolmentRefused) or exc.status == 409):
                reason = exc.detail or exc.status
                self._report(f"enrolment token refused ({reason}); pairing by code")
                self._hello = replace(self._hello, enrol_token=None)
                self._hello_due = now
                return
            self._hello_due = now + self._backoff.next_delay(exc.retry_after)
            log.info("hello refused (%s); again in %.0f s", exc, self._hello_due - now)
            return
        except (PlayerError, OSError) as exc:
            retry_after = exc.retry_after if isinstance(exc, ServerRefused) else None
            self._hello_due = now + self._backoff.next_delay(retry_after)
            log.info("hello failed (%s); again in %.0f s", exc, self._hello_due - now)
            return
        self._backoff.reset()
        if isinstance(answer, Paired):
            device = Device(answer.device_token, answer.screen_id, key_bound=self._key is not None)
            self._devices.save(device, self._server_url)
            self._state.set_device(device)
            self._poll_due = self._upload_due = now
            log.info("paired as screen %s", answer.screen_id)
        else:
            shown = self._state.pairing
            if shown is None or shown.code != answer.code:
                # Also in the log, for whoever installs the screen over SSH.
                log.info(
                    "pairing code %s: claim it in Signage Scheduler (Screens > Pair)", answer.code
                )
            self._state.set_pairing(answer)
            self._hello_due = now + answer.retry_after

    def _forget(self, now: float) -> None:
        log.warning("device token refused: forgetting it and pairing again")
        self._devices.clear()
        self._library.forget()
        self._state.set_device(None)
        self._commands.clear()
        self._shot_wanted_for.clear()
        self._hello_due = now

    # -- polling --------------------------------------------------------------------------

    def status(self, errors: list[str]) -> Status:
        asset, playlist = self._state.on_screen
        active = self._library.active
        return Status(
            manifest=active.version if active else None,
            asset=asset,
            playlist=playlist,
            uptime_s=int(self._clock.monotonic() - self._started),
            disk_free_bytes=disk_free(self._data_dir),
            cache_shortage_bytes=self._state.cache_shortage_bytes,
            dropped_events=self._journal.dropped(),
            errors=errors,
        )

    def _poll(self, device: Device, now: float) -> None:
        pending_errors = self._journal.peek("error", STATUS_ERRORS)
        header, carried = encode_status(self.status([str(e.body) for e in pending_errors]))
        try:
            reply = self._api.manifest(device.token, self._library.known_etag(), header)
        except Unauthorized:
            self._forget(now)
            return
        except (PlayerError, OSError) as exc:
            retry_after = exc.retry_after if isinstance(exc, ServerRefused) else None
            # Quick retries first (a blip), then the usual pace, never slower (a Retry-After
            # aside): a player back from an outage must see a publish in time for its
            # effective instant, and the usual pace costs the server no more than a normal day.
            usual = self._backoff.ceiling() >= self.poll_interval_s
            delay = self._backoff.next_delay(retry_after)
            if usual:
                delay = max(jittered(self.poll_interval_s, self._rng), retry_after or 0.0)
            self._poll_due = now + delay
            log.info("poll failed (%s); again in %.1f s", exc, delay)
            return
        self._backoff.reset()
        self._state.server_answered()
        if not device.key_bound:
            self._bind_key(device)
        self._retire_errors([e.seq for e in pending_errors[:carried]], now)
        if reply.body is not None:
            log.info("new manifest %s", reply.etag)
            try:
                manifest = self._library.offer(reply.body, reply.etag, self._server_clock.now())
            except ManifestInvalid as exc:
                self._report(f"manifest refused: {exc}")
            else:
                self.poll_interval_s = manifest.poll_interval_s
                for command in manifest.commands:
                    if command.id not in self._done and command.id not in self._commands:
                        self._commands[command.id] = command
        self._poll_due = now + jittered(self.poll_interval_s, self._rng)
        if self._journal.count("play"):
            self._upload_due = min(self._upload_due, now)

    def _bind_key(self, device: Device) -> None:
        """A token kept from a version-1 player: give the server this device's key once, so
        that from now on only this device can pair into the screen again."""
        if self._key is None or self._bind_tried:
            return
        try:
            proof = self._key.prove(self._hello.hardware_id, self._server_clock.now())
            self._api.bind_key(device.token, self._hello.hardware_id, proof)
        except ServerRefused as exc:
            if exc.status >= 500 or exc.status == 429:
                return  # try again after the next poll
            self._bind_tried = True
            if exc.status != 409:  # an older server without the route: try next run
                log.info("device key not bound (%s)", exc)
                return
            self._report(f"device key refused: {exc.detail or exc.status}")
        except (PlayerError, OSError) as exc:
            log.info("device key not bound yet (%s)", exc)
            return
        bound = replace(device, key_bound=True)
        self._devices.save(bound, self._server_url)
        self._state.set_device(bound)
        log.info("device key bound to screen %s", device.screen_id)

    def _retire_errors(self, delivered: list[int], now: float) -> None:
        """Drop the errors that polls have delivered for `ERROR_HOLD_S`."""
        done = []
        for seq in delivered:
            first = self._carried.setdefault(seq, now)
            if now - first >= ERROR_HOLD_S:
                done.append(seq)
                del self._carried[seq]
        self._journal.delete(done)

    # -- proof of play --------------------------------------------------------------------

    def _upload_plays(self, device: Device, now: float) -> None:
        batch = self._journal.peek("play", PLAYS_BATCH)
        if not batch:
            self._upload_due = now + self.poll_interval_s
            return
        try:
            self._api.upload_plays(device.token, [e.body for e in batch])
        except Unauthorized:
            self._forget(now)
            return
        except ServerRefused as exc:
            if exc.status != 422:
                self._upload_due = now + self._upload_backoff.next_delay(exc.retry_after)
                return
            bad = {int(m.group(1)) for e in exc.errors if (m := _EVENT_INDEX.match(e["field"]))}
            refused = [batch[i].seq for i in sorted(bad) if i < len(batch)] or [
                e.seq for e in batch
            ]
            self._journal.delete(refused, dropped=True)
            self._report(f"server refused {len(refused)} play events: {exc.detail}")
            self._upload_due = now
            return
        except (PlayerError, OSError) as exc:
            self._upload_due = now + self._upload_backoff.next_delay()
            log.info("plays upload failed (%s)", exc)
            return
        self._upload_backoff.reset()
        self._journal.delete([e.seq for e in batch])
        full = len(batch) == PLAYS_BATCH
        self._upload_due = now if full else now + self.poll_interval_s

    # -- commands and screenshots ---------------------------------------------------------

    def _run_commands(self, device: Device, now: float) -> None:
        while self._commands:
            command = next(iter(self._commands.values()))
            if command.kind == "screenshot":
                if command.id not in self._shot_wanted_for:
                    self._shot_wanted_for.append(command.id)
                    self._state.request_screenshot()
                del self._commands[command.id]
                continue
            del self._commands[command.id]
            if command.kind == "refresh":
                self._poll_due = now
                self._finish(device, command.id, True, "polled")
            elif command.kind == "restart":
                if self._finish(device, command.id, True, "restarting"):
                    self._state.stop(EXIT_RESTART)
                else:  # the restart waits for its ack, or it would be replayed forever
                    self._commands[command.id] = command
                    return
            else:
                self._finish(device, command.id, False, f"unknown command {command.kind!r}")

    def _screenshots(self, device: Device, now: float) -> None:
        if self._shot_due is not None and now >= self._shot_due:
            self._shot_due = now + self._shot_interval
            if None not in self._shot_wanted_for:
                self._shot_wanted_for.append(None)
                self._state.request_screenshot()
        shot = self._state.take_screenshot()
        if shot is None:
            return
        waiting, self._shot_wanted_for = self._shot_wanted_for, []
        ok, detail = True, "uploaded"
        try:
            self._api.upload_screenshot(device.token, shot, "image/jpeg")
        except Unauthorized:
            self._forget(now)
            return
        except (PlayerError, OSError) as exc:
            ok, detail = False, f"upload failed: {exc}"
            log.info("screenshot %s", detail)
        for command_id in waiting:
            if command_id is not None:
                self._finish(device, command_id, ok, detail)

    def _finish(self, device: Device, command_id: int, ok: bool, detail: str) -> bool:
        """Remember a command as done and acknowledge it; True once the server has the ack."""
        self._done[command_id] = None
        while len(self._done) > 1000:
            self._done.popitem(last=False)
        self._unacked[command_id] = (ok, detail)
        return self._ack(device, command_id)

    def _ack(self, device: Device, command_id: int) -> bool:
        ok, detail = self._unacked[command_id]
        try:
            self._api.ack_command(device.token, command_id, ok, detail)
        except (PlayerError, OSError) as exc:
            if isinstance(exc, ServerRefused) and 400 <= exc.status < 500 and exc.status != 429:
                del self._unacked[command_id]  # e.g. unknown command: nothing to retry
                return True
            log.info("ack of command %s failed (%s)", command_id, exc)
            return False
        del self._unacked[command_id]
        return True

    def _acks(self, device: Device) -> None:
        for command_id in list(self._unacked):
            if not self._ack(device, command_id):
                return
