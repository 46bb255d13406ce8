"""HTTP to the server: one transport (`player.transport`), a timeout on every call, errors
mapped at the edge.

Every response's `Signage-Server-Time` feeds the clock-offset estimator. Retrying is the
caller's business (`Backoff`): a request here is sent once (twice only when a kept-alive
connection turns out to have been closed by the server as it was reused).
"""

from __future__ import annotations

import errno
import http.client
import json
import random
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from player import __version__
from player.clock import Clock, OffsetEstimator, from_ms
from player.errors import (
    EnrolmentRefused,
    NotFound,
    ProtocolError,
    ServerRefused,
    ServerUnreachable,
    Unauthorized,
)
from player.protocol import HelloRequest, ManifestReply, MediaBody, Paired, Pairing, PlaysReply
from player.transport import Response, Transport

USER_AGENT = f"signage-player/{__version__}"
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0
MEDIA_READ_TIMEOUT_S = 60.0
CHUNK_BYTES = 64 * 1024
_ERROR_BODY_LIMIT = 64 * 1024
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024  # a manifest of a few thousand items is well under 1 MB
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class Backoff:
    """Exponential backoff with full jitter: the n-th delay is uniform in [0, min(cap, base·2ⁿ)]."""

    def __init__(
        self, base_s: float = 1.0, cap_s: float = 300.0, rng: random.Random | None = None
    ) -> None:
        self.base_s = base_s
        self.cap_s = cap_s
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self.failures = 0

    def ceiling(self) -> float:
        """The upper bound of the next delay."""
        return min(self.cap_s, self.base_s * 2.0 ** min(self.failures, 64))

    def next_delay(self, retry_after: float | None = None) -> float:
        """Count one more failure and return how long to wait; never less than `retry_after`."""
        delay = self._rng.uniform(0.0, self.ceiling())
        self.failures += 1
        return max(delay, retry_after or 0.0)

    def reset(self) -> None:
        """After a success: the next failure starts from the base again."""
        self.failures = 0


def jittered(interval_s: float, rng: random.Random, spread: float = 0.1) -> float:
    """`interval_s` ± `spread` (10 % by default), so a fleet does not poll in step."""
    return interval_s * rng.uniform(1.0 - spread, 1.0 + spread)


def parse_server_time(value: str | None) -> datetime | None:
    """The `Signage-Server-Time` header (Unix milliseconds), or None if absent or malformed."""
    if value is None or not value.strip().isdigit():
        return None
    return from_ms(int(value.strip()))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def error_for(
    status: int, body: bytes, retry_after: float | None, *, route: str = ""
) -> ServerRefused:
    """The player error for an error response (problem+json body when the server sent one)."""
    detail, errors = "", []
    try:
        problem = json.loads(body.decode("utf-8")) if body else {}
    except (UnicodeDecodeError, ValueError):
        problem = {}
    if isinstance(problem, dict):
        detail = str(problem.get("detail") or problem.get("title") or "")
        raw = problem.get("errors")
        if isinstance(raw, list):
            errors = [
                {"field": str(e.get("field", "")), "reason": str(e.get("reason", ""))}
                for e in raw
                if isinstance(e, dict)
            ]
    kind: type[ServerRefused] = ServerRefused
    if status == 401:
        kind = Unauthorized
    elif status == 403 and route == "hello":
        kind = EnrolmentRefused
    elif status == 404:
        kind = NotFound
    return kind(status, detail, retry_after=retry_after, errors=errors)


def resolve_url(base_url: str, url: str) -> str:
    """An asset URL from the manifest, relative to the server's base URL (path prefix kept)."""
    if urlsplit(url).scheme in ("http", "https"):
        return url
    return base_url.rstrip("/") + "/" + url.lstrip("/")


def media_start(status: int, content_range: str | None, offset: int) -> int:
    """Where a media response's bytes begin: a 206 must start at `offset`, a 200 at 0."""
    if status == 200:
        return 0
    match = _CONTENT_RANGE.match(content_range or "")
    if status != 206 or match is None or int(match.group(1)) != offset:
        raise ProtocolError(f"media answered {status} with Content-Range {content_range!r}")
    return offset


class ServerClient:
    """The `ServerApi` over HTTP."""

    def __init__(
        self,
        base_url: str,
        *,
        clock: Clock,
        estimator: OffsetEstimator | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._clock = clock
        self._estimator = estimator
        self._http = transport or Transport(
            user_agent=USER_AGENT, connect_timeout=CONNECT_TIMEOUT_S
        )

    def close(self) -> None:
        self._http.close()

    def _send(
        self,
        method: str,
        url: str,
        *,
        route: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        read_timeout: float = READ_TIMEOUT_S,
        body: bytes | None = None,
        json_body: Any = None,
        media: bool = False,
    ) -> Response:
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        sent_wall, sent_mono = self._clock.wall(), self._clock.monotonic()
        try:
            response = self._http.request(
                method,
                url,
                headers=all_headers,
                body=body,
                read_timeout=read_timeout,
                compressed=not media,
            )
        except (OSError, http.client.HTTPException) as exc:
            raise ServerUnreachable(f"{route}: {unreachable_reason(exc)}") from exc
        server_time = parse_server_time(response.headers.get("Signage-Server-Time"))
        if server_time is not None and self._estimator is not None:
            self._estimator.add(sent_wall, sent_mono, self._clock.monotonic(), server_time)
        if response.status >= 400:
            try:
                error_body = response.read(_ERROR_BODY_LIMIT)
            except (OSError, http.client.HTTPException):
                error_body = b""
            finally:
                response.close()
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock.wall())
            raise error_for(response.status, error_body, retry_after, route=route)
        return response

    def _json(self, response: Response, route: str) -> dict[str, Any]:
        try:
            data = response.read(MAX_DOCUMENT_BYTES)
        except (OSError, http.client.HTTPException) as exc:
            raise ServerUnreachable(f"{route}: {unreachable_reason(exc)}") from exc
        finally:
            response.close()
        try:
            body = json.loads(data)
        except ValueError as exc:
            raise ProtocolError(f"{response.url}: body is not JSON") from exc
        if not isinstance(body, dict):
            raise ProtocolError(f"{response.url}: body is not a JSON object")
        return body

    def hello(self, request: HelloRequest) -> Pairing | Paired:
        response = self._send(
            "POST",
            self.base_url + "/api/v1/player/hello",
            route="hello",
            json_body=request.as_json(),
        )
        return parse_hello(self._json(response, "hello"))

    def manifest(self, token: str, etag: str | None, status: str | None) -> ManifestReply:
        headers = {"Accept": "application/json"}
        if etag:
            headers["If-None-Match"] = etag
        if status:
            headers["Signage-Status"] = status
        response = self._send(
            "GET",
            self.base_url + "/api/v1/player/manifest",
            route="manifest",
            token=token,
            headers=headers,
        )
        if response.status == 304:
            response.close()
            return ManifestReply(etag=response.headers.get("ETag") or etag, body=None)
        body = self._json(response, "manifest")
        etag = response.headers.get("ETag")
        if etag is None and isinstance(body.get("version"), str):
            etag = f'"{body["version"]}"'  # the protocol: version is the ETag without quotes
        return ManifestReply(etag=etag, body=body)

    def upload_plays(self, token: str, events: list[dict[str, Any]]) -> PlaysReply:
        response = self._send(
            "POST",
            self.base_url + "/api/v1/player/plays",
            route="plays",
            token=token,
            json_body={"events": events},
        )
        body = self._json(response, "plays")
        try:
            return PlaysReply(int(body["accepted"]), int(body.get("duplicates", 0)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ProtocolError(f"plays answer {body!r}") from exc

    def _no_content(self, response: Response, route: str) -> None:
        try:
            response.read(_ERROR_BODY_LIMIT)
        except (OSError, http.client.HTTPException) as exc:
            raise ServerUnreachable(f"{route}: {unreachable_reason(exc)}") from exc

    def upload_screenshot(self, token: str, image: bytes, content_type: str) -> None:
        response = self._send(
            "POST",
            self.base_url + "/api/v1/player/screenshot",
            route="screenshot",
            token=token,
            headers={"Content-Type": content_type},
            body=image,
        )
        self._no_content(response, "screenshot")

    def ack_command(self, token: str, command_id: int, ok: bool, detail: str) -> None:
        response = self._send(
            "POST",
            f"{self.base_url}/api/v1/player/commands/{int(command_id)}/ack",
            route="ack",
            token=token,
            json_body={"ok": ok, "detail": detail},
        )
        self._no_content(response, "ack")

    def bind_key(self, token: str, hardware_id: str, proof: dict[str, str]) -> None:
        response = self._send(
            "PUT",
            self.base_url + "/api/v1/player/device-key",
            route="device-key",
            token=token,
            json_body={"hardware_id": hardware_id, "proof": proof},
        )
        self._no_content(response, "device-key")

    @contextmanager
    def open_media(self, url: str, offset: int) -> Iterator[MediaBody]:
        headers = {"Range": f"bytes={offset}-"} if offset > 0 else {}
        response = self._send(
            "GET",
            resolve_url(self.base_url, url),
            route="media",
            headers=headers,
            read_timeout=MEDIA_READ_TIMEOUT_S,
            media=True,
        )
        try:
            start = media_start(response.status, response.headers.get("Content-Range"), offset)
            length = response.headers.get("Content-Length")
            total = start + int(length) if length and length.isdigit() else None
            yield MediaBody(start=start, chunks=_chunks(response), total=total)
        finally:
            response.close()


def _chunks(response: Response) -> Iterator[bytes]:
    try:
        yield from response.chunks(CHUNK_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        raise ServerUnreachable(f"media transfer broke: {unreachable_reason(exc)}") from exc


def unreachable_reason(exc: BaseException) -> str:
    """A short reason for a failed request, for logs and status."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate not trusted"
    if isinstance(exc, socket.gaierror):
        return "host name not resolved"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, http.client.RemoteDisconnected | ConnectionResetError | BrokenPipeError):
        return "connection closed by the server"
    if isinstance(exc, http.client.IncompleteRead):
        return "transfer cut short"
    if isinstance(exc, OSError) and exc.errno == errno.ENETUNREACH:
        return "network unreachable"
    if isinstance(exc, OSError) and exc.errno == errno.EHOSTUNREACH:
        return "no route to host"
    return str(exc)[:120] or type(exc).__name__


def parse_hello(body: dict[str, Any]) -> Pairing | Paired:
    """The `hello` answer as `Pairing` or `Paired`."""
    state = body.get("state")
    try:
        if state == "paired":
            token = body["device_token"]
            if not isinstance(token, str) or not token:
                raise ProtocolError("hello: empty device_token")
            screen = body.get("screen_id")
            return Paired(device_token=token, screen_id=int(screen) if screen is not None else None)
        if state == "pairing":
            expires = body.get("expires_at")
            return Pairing(
                code=str(body["pairing_code"]),
                expires_at=datetime.fromisoformat(expires) if isinstance(expires, str) else None,
                retry_after=max(1.0, float(body.get("retry_after", 5))),
            )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"hello answer {body!r}") from exc
    raise ProtocolError(f"hello answered state {state!r}")
