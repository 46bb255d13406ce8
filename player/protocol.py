"""The wire's shapes (docs/player-protocol.md) as plain types, and the server seen from the player.

`ServerApi` is the seam between the agent and HTTP: `client.ServerClient` implements it over
`player.transport`; everything above it is testable without a network.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class HelloRequest:
    hardware_id: str
    player_version: str
    width: int
    height: int
    name: str | None = None
    enrol_token: str | None = None
    proof: dict[str, str] | None = None  # protocol 2: proof of the device key

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "hardware_id": self.hardware_id,
            "player_version": self.player_version,
            "width": self.width,
            "height": self.height,
            "name": self.name,
            "enrol_token": self.enrol_token,
        }
        if self.proof is not None:
            body["proof"] = self.proof
        return body


@dataclass(frozen=True)
class Pairing:
    """Not paired yet: show `code`, say hello again after `retry_after` seconds."""

    code: str
    expires_at: datetime | None
    retry_after: float


@dataclass(frozen=True)
class Paired:
    device_token: str
    screen_id: int | None


@dataclass(frozen=True)
class ManifestReply:
    """A poll's answer: `body` is None on 304."""

    etag: str | None
    body: dict[str, Any] | None

    @property
    def not_modified(self) -> bool:
        return self.body is None


@dataclass(frozen=True)
class PlaysReply:
    accepted: int
    duplicates: int


@dataclass
class MediaBody:
    """An open media response: `start` is the byte offset the server actually began at."""

    start: int
    chunks: Iterator[bytes]
    total: int | None = None
    headers: dict[str, str] = field(default_factory=dict)


class MediaSource(Protocol):
    """Where the cache gets bytes from."""

    def open_media(self, url: str, offset: int) -> AbstractContextManager[MediaBody]:
        """Open `url` from byte `offset` (a Range request when > 0)."""
        ...


class ServerApi(MediaSource, Protocol):
    """Every call the player makes; each raises `player.errors` types, never socket errors."""

    def hello(self, request: HelloRequest) -> Pairing | Paired: ...

    def manifest(self, token: str, etag: str | None, status: str | None) -> ManifestReply: ...

    def upload_plays(self, token: str, events: list[dict[str, Any]]) -> PlaysReply: ...

    def upload_screenshot(self, token: str, image: bytes, content_type: str) -> None: ...

    def ack_command(self, token: str, command_id: int, ok: bool, detail: str) -> None: ...

    def bind_key(self, token: str, hardware_id: str, proof: dict[str, str]) -> None: ...
