"""Test helpers: media bytes, manifest bodies, and an in-memory server at the `ServerApi` seam.

`FakeServer` stands in for the other side of the wire (docs/player-protocol.md), not for any
player code: the player's own modules all run for real against it. HTTP itself is covered by
the integration tests against the real server.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from player.agent import Agent, Settings
from player.clock import Clock, OffsetEstimator, ServerClock, SkewedClock, iso_ms
from player.display.headless import HeadlessDisplay
from player.errors import (
    EnrolmentRefused,
    NotFound,
    ServerRefused,
    ServerUnreachable,
    Unauthorized,
)
from player.protocol import HelloRequest, ManifestReply, MediaBody, Paired, Pairing, PlaysReply

# A Monday in Asia/Shanghai: local midnight is 16:00 UTC the day before.
T0 = datetime(2022, 9, 5, 2, 0, tzinfo=UTC)
DAY0 = datetime(2022, 9, 4, 16, 0, tzinfo=UTC)

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 160, 0), (0, 0, 255), (255, 255, 255)


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 36)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def asset_entry(data: bytes, media_type: str = "image/png") -> dict[str, Any]:
    digest = sha(data)
    return {"url": f"/media/{digest}.png", "media_type": media_type, "size": len(data)}


def segment(
    start: datetime,
    end: datetime,
    playlist: str | None,
    items: list[tuple[bytes, int]] | None = None,
    *,
    anchor: datetime | None = None,
    transition: str = "cut",
    fit: str = "contain",
) -> dict[str, Any]:
    return {
        "start": iso_ms(start),
        "end": iso_ms(end),
        "anchor": iso_ms(anchor or start),
        "playlist": playlist,
        "campaign": "Cybersecurity Week" if playlist else None,
        "items": [
            {"asset": sha(data), "duration_ms": ms, "fit": fit, "transition": transition}
            for data, ms in (items or [])
        ],
    }


def manifest_body(
    segments: list[dict[str, Any]],
    media: list[bytes],
    *,
    version: str = "v1",
    poll_interval_s: int = 30,
    commands: list[dict[str, Any]] | None = None,
    media_type: str = "image/png",
) -> dict[str, Any]:
    return {
        "protocol": 1,
        "version": version,
        "timezone": "Asia/Shanghai",
        "valid_from": segments[0]["start"],
        "valid_until": segments[-1]["end"],
        "poll_interval_s": poll_interval_s,
        "segments": segments,
        "assets": {sha(d): asset_entry(d, media_type) for d in media},
        "commands": commands or [],
    }


@dataclass
class ByteSource:
    """Serves bytes by URL like the media route: Range from an offset, or whole when ignoring it.

    `break_after` cuts the transfer after that many bytes (then resets); `corrupt` flips a byte.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    chunk: int = 1000
    ignore_range: bool = False
    break_after: int | None = None
    corrupt: bool = False
    down: bool = False
    status: int | None = None
    requests: list[tuple[str, int]] = field(default_factory=list)

    def add(self, data: bytes) -> str:
        url = f"/media/{sha(data)}.png"
        self.files[url] = data
        return url

    @contextmanager
    def open_media(self, url: str, offset: int) -> Iterator[MediaBody]:
        self.requests.append((url, offset))
        if self.down:
            raise ServerUnreachable("connection refused")
        if self.status is not None:
            raise NotFound(404) if self.status == 404 else ServerRefused(self.status)
        if url not in self.files:
            raise NotFound(404, "asset in no published campaign")
        data = self.files[url]
        if self.corrupt:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        start = 0 if self.ignore_range else offset
        limit, self.break_after = self.break_after, None

        def chunks() -> Iterator[bytes]:
            sent = 0
            for i in range(start, len(data), self.chunk):
                piece = data[i : i + self.chunk]
                if limit is not None and sent + len(piece) > limit:
                    yield piece[: limit - sent]
                    raise ServerUnreachable("media transfer broke")
                sent += len(piece)
                yield piece

        yield MediaBody(start=start, chunks=chunks(), total=len(data))


class FakeServer(ByteSource):
    """The server side of the protocol, in memory, with a clock of its own.

    `clock` is the true time; each call feeds the player's estimator as the HTTP client would
    (instantly, so the round trip is zero and the offset exact).
    """

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock
        self.claimed: dict[str, str] = {}  # hardware id → token to hand out
        self.codes: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.enrol_tokens: set[str] = set()
        self.body: dict[str, Any] | None = None
        self.etag: str | None = None
        self.calls: list[str] = []
        self.statuses: list[dict[str, Any]] = []
        self.plays: dict[str, dict[str, Any]] = {}
        self.screenshots: list[bytes] = []
        self.acks: list[tuple[int, bool, str]] = []
        self.refuse_events: set[str] = set()  # play ids to answer 422 for
        self.busy: float | None = None  # Retry-After of a 503 answer
        self.players: list[tuple[Clock, OffsetEstimator]] = []
        self.hellos: list[HelloRequest] = []
        self.bound: list[tuple[str, str, dict[str, str]]] = []  # token, hardware id, proof

    def attach(self, clock: Clock, estimator: OffsetEstimator) -> None:
        """Let this server's answers correct the estimator of a player running on `clock`."""
        self.players.append((clock, estimator))

    def publish(self, body: dict[str, Any], media: list[bytes]) -> None:
        for data in media:
            self.add(data)
        self.body, self.etag = body, f'"{body["version"]}"'

    def claim(self, hardware_id: str) -> str:
        token = f"sgd_{len(self.tokens) + 1}"
        self.claimed[hardware_id] = token
        return token

    def _answer(self, route: str) -> None:
        self.calls.append(route)
        if self.down:
            raise ServerUnreachable(f"{route}: connection refused")
        for clock, estimator in self.players:
            estimator.add(clock.wall(), clock.monotonic(), clock.monotonic(), self.clock.wall())
        if self.busy is not None:
            raise ServerRefused(503, "shedding load", retry_after=self.busy)

    def _auth(self, token: str) -> None:
        if token not in self.tokens:
            raise Unauthorized(401, "device token revoked")

    def hello(self, request: HelloRequest) -> Pairing | Paired:
        self._answer("hello")
        self.hellos.append(request)
        if request.enrol_token is not None:
            if request.enrol_token not in self.enrol_tokens:
                raise EnrolmentRefused(403, "enrolment token unknown")
            token = f"sgd_enrolled_{request.hardware_id}"
            self.tokens.add(token)
            return Paired(token, 7)
        if request.hardware_id in self.claimed:
            token = self.claimed.pop(request.hardware_id)
            self.tokens.add(token)
            self.codes.pop(request.hardware_id, None)
            return Paired(token, 17)
        code = self.codes.setdefault(request.hardware_id, f"K7M2Q{len(self.codes)}")
        return Pairing(code, self.clock.wall() + timedelta(minutes=15), 5.0)

    def manifest(self, token: str, etag: str | None, status: str | None) -> ManifestReply:
        self._answer("manifest")
        self._auth(token)
        if status is not None:
            self.statuses.append(json.loads(status))
        if self.body is None:
            raise NotFound(404, "no manifest")
        if etag == self.etag:
            return ManifestReply(etag=self.etag, body=None)
        return ManifestReply(etag=self.etag, body=json.loads(json.dumps(self.body)))

    def upload_plays(self, token: str, events: list[dict[str, Any]]) -> PlaysReply:
        self._answer("plays")
        self._auth(token)
        assert len(events) <= 1000
        bad = [i for i, e in enumerate(events) if e["id"] in self.refuse_events]
        if bad:
            errors = [{"field": f"events[{i}].end", "reason": "in the future"} for i in bad]
            raise ServerRefused(422, "bad events", errors=errors)
        duplicates = sum(1 for e in events if e["id"] in self.plays)
        for event in events:
            self.plays[event["id"]] = event
        return PlaysReply(len(events) - duplicates, duplicates)

    def upload_screenshot(self, token: str, image: bytes, content_type: str) -> None:
        self._answer("screenshot")
        self._auth(token)
        assert content_type == "image/jpeg" and len(image) <= 2 * 1024 * 1024
        self.screenshots.append(image)

    def ack_command(self, token: str, command_id: int, ok: bool, detail: str) -> None:
        self._answer("ack")
        self._auth(token)
        self.acks.append((command_id, ok, detail))
        if self.body is not None:
            left = [c for c in self.body["commands"] if c["id"] != command_id]
            if len(left) != len(self.body["commands"]):
                self.body = {**self.body, "commands": left}

    def bind_key(self, token: str, hardware_id: str, proof: dict[str, str]) -> None:
        self._answer("device-key")
        self._auth(token)
        self.bound.append((token, hardware_id, proof))


class Rig:
    """One player on its own data dir and (skewed) clock, against a `FakeServer`."""

    def __init__(
        self,
        server: FakeServer,
        data_dir: Path,
        *,
        skew: timedelta = timedelta(0),
        hardware_id: str = "b8:27:eb:00:00:01",
        size: tuple[int, int] = (160, 90),
        seed: int = 1,
        **settings: Any,
    ) -> None:
        self.server = server
        self.data_dir = data_dir
        self.clock = SkewedClock(server.clock, skew)
        self.estimator = OffsetEstimator()
        server.attach(self.clock, self.estimator)
        options = {"screenshot_interval_s": 0.0, **settings}
        self.agent = Agent(
            Settings(
                server="http://signage.test", data_dir=data_dir, hardware_id=hardware_id, **options
            ),
            clock=self.clock,
            api=server,
            display=HeadlessDisplay(
                size, data_dir, ServerClock(self.clock, self.estimator).correction
            ),
            estimator=self.estimator,
            rng=random.Random(seed),
        )

    def steps(self) -> dict[str, Any]:
        a = self.agent
        return {"playback": a.playback.step, "network": a.network.step, "fetcher": a.fetcher.step}

    def changes(self) -> list[list[str]]:
        """The change log: [corrected ISO time, asset sha or card, playlist, transition,
        clock offset ms]."""
        path = self.data_dir / "changes.log"
        if not path.exists():
            return []
        return [line.split("\t") for line in path.read_text().splitlines()]

    def shown(self) -> str | None:
        changes = self.changes()
        return changes[-1][1] if changes else None

    def close(self) -> None:
        self.agent.close()


_ORDER = {"playback": 0, "network": 1, "fetcher": 2}  # at equal instants the screen goes first


def drive(rigs: list[Rig], seconds: float, *, only: tuple[str, ...] | None = None) -> None:
    """Run the players' schedulers on their shared fake clock for `seconds`, without sleeping.

    Each step says when it wants to run again; the earliest runs next and the clock jumps to it.
    """
    clock = rigs[0].server.clock
    end = clock.monotonic() + seconds
    due: dict[tuple[int, str], float] = {}
    steps: dict[tuple[int, str], Any] = {}
    for i, rig in enumerate(rigs):
        for name, step in rig.steps().items():
            if only is None or name in only:
                steps[(i, name)] = step
                due[(i, name)] = clock.monotonic()
    for _ in range(1_000_000):
        key = min(due, key=lambda k: (due[k], _ORDER[k[1]], k[0]))
        if due[key] > end:
            break
        if due[key] > clock.monotonic():
            clock.advance(due[key] - clock.monotonic())
        due[key] = clock.monotonic() + max(steps[key](), 1e-6)
    else:
        raise AssertionError("the schedulers never went idle")
    if end > clock.monotonic():
        clock.advance(end - clock.monotonic())


class FakeClock:
    """A clock that only moves when told to; `sleep` moves it. For tests."""

    def __init__(self, start: datetime, monotonic: float = 1000.0) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._wall = start.astimezone(UTC)
        self._mono = monotonic
        self.slept: list[float] = []

    def wall(self) -> datetime:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        self._wall += timedelta(seconds=seconds)
        self._mono += seconds

    def step_wall(self, delta: timedelta) -> None:
        """Jump the wall clock only, as an NTP step or an operator would."""
        self._wall += delta
