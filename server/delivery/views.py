"""The player protocol (docs/player-protocol.md): hello, manifest polls, proof of play,
screenshots and command acknowledgements. Every route but hello takes a device token."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import BinaryIO, Literal, cast

from flask import Blueprint, Response, current_app, g, json, request
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from server import clock, storage
from server.api.registry import api
from server.api.schemas import Strict
from server.auth.actors import token_digest
from server.auth.policy import DEVICE, PUBLIC, bearer_token, client_address
from server.config import Settings
from server.db import get_session
from server.delivery import runtime
from server.delivery.compile import rfc3339
from server.delivery.schemas import Manifest
from server.errors import PayloadTooLarge, ServiceUnavailable
from server.reports.plays import MAX_BATCH, Play, record_plays
from server.screens import commands, joining, keys
from server.screens.devices import DeviceScreen, authenticate_device
from server.screens.heartbeats import STATUS_HEADER, parse_status
from server.screens.placement import Hello
from server.screens.screenshots import save_screenshot

bp = Blueprint("player", __name__, url_prefix="/player")
SHA256 = r"^[0-9a-f]{64}$"
POLL_ENDPOINT = "api.player.manifest"


@bp.before_request
def _admit() -> None:
    # Shed before anything costs: no token check, no body parsing, no database.
    g.player_t0 = time.perf_counter()
    rt = runtime.player_runtime()
    started = request.headers.get("X-Request-Start")
    # X-Request-Start is stamped by the proxy's real clock: the time queued is measured
    # against the real clock too, never the app's (a test or demo may set that elsewhere).
    g.player_slot = rt.gate.enter(started, datetime.now(UTC) if started else None)
    g.player_runtime = rt


@bp.after_request
def _count_poll(response: Response) -> Response:
    # Every answer to a poll counts, refusals (401, 503) included: those never reach the view.
    if request.endpoint == POLL_ENDPOINT:
        t0 = g.get("player_t0")
        elapsed = time.perf_counter() - t0 if t0 is not None else 0.0
        runtime.player_runtime().metrics.poll(response.status_code, elapsed)
    return response


@bp.teardown_request
def _release(_exc: BaseException | None) -> None:
    if g.pop("player_slot", False):
        runtime.player_runtime().gate.leave()


def _rt() -> runtime.PlayerRuntime:
    rt: runtime.PlayerRuntime = g.player_runtime
    return rt


# A full batch (1000 events) of proof of play, with room for long names.
PLAYS_MAX_BYTES = 1024 * 1024


def _settings() -> Settings:
    settings: Settings = current_app.config["SIGNAGE"]
    return settings


def _device() -> DeviceScreen:
    return _device_and_version()[0]


def _device_and_version() -> tuple[DeviceScreen, int]:
    return authenticate_device(_rt().devices, bearer_token())


class ProofIn(Strict):
    """Protocol 2: proof that the player holds its device key (docs/player-protocol.md §1)."""

    device_key: str = Field(pattern=keys.KEY_PATTERN, description="Ed25519 public key, base64url")
    at: str = Field(max_length=40, description="RFC 3339 UTC instant the player signed")
    signature: str = Field(pattern=keys.SIGNATURE_PATTERN, description="base64url, 64 bytes")

    def as_proof(self) -> keys.KeyProof:
        return keys.KeyProof(self.device_key, self.at, self.signature)


class HelloIn(Strict):
    hardware_id: str = Field(min_length=1, max_length=128)
    player_version: str = Field(default="", max_length=40)
    width: int = Field(ge=1, le=16384)
    height: int = Field(ge=1, le=16384)
    name: str | None = Field(default=None, max_length=200)
    enrol_token: str | None = Field(default=None, max_length=200)
    proof: ProofIn | None = Field(default=None, description="Protocol 2; absent from version 1")

    @field_validator("hardware_id")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable() or not value.strip():
            raise ValueError("must be printable characters")
        return value


class HelloOut(BaseModel):
    state: Literal["pairing", "paired"]
    pairing_code: str | None = None
    expires_at: str | None = Field(default=None, description="RFC 3339, UTC, milliseconds")
    retry_after: int | None = None
    device_token: str | None = None
    screen_id: int | None = None


@api.route(
    bp,
    "/hello",
    "POST",
    policy=PUBLIC,
    summary="A player without a token: get a pairing code, collect a token, or enrol",
    body=HelloIn,
    response=HelloOut,
    extra_responses={
        201: "Enrolled with an enrolment token",
        401: "The device key proof does not hold",
        403: "Bad enrolment token",
        409: "The hardware id belongs to a screen this player may not take",
        429: "Too many new pairings from this address",
    },
)
def hello(body: HelloIn) -> Response:
    db = get_session()
    outcome = joining.hello(
        db,
        Hello(
            hardware_id=body.hardware_id,
            width=body.width,
            height=body.height,
            player_version=body.player_version,
            name=body.name,
            enrol_token=body.enrol_token,
            proof=body.proof.as_proof() if body.proof else None,
            source=client_address(),
        ),
        clock.now(),
        joining.pairing_limit(_settings()),
    )
    db.commit()
    if outcome.state == "pairing":
        out = HelloOut(
            state="pairing",
            pairing_code=outcome.pairing_code,
            expires_at=rfc3339(outcome.expires_at) if outcome.expires_at else None,
            retry_after=outcome.retry_after,
        )
    else:
        out = HelloOut(
            state="paired", device_token=outcome.device_token, screen_id=outcome.screen_id
        )
    return Response(
        json.dumps(out.model_dump(mode="json", exclude_none=True)),
        status=201 if outcome.enrolled else 200,
        mimetype="application/json",
        headers={"Cache-Control": "no-store"},
    )


class DeviceKeyIn(Strict):
    hardware_id: str = Field(min_length=1, max_length=128)
    proof: ProofIn


@api.route(
    bp,
    "/device-key",
    "PUT",
    policy=DEVICE,
    summary="Bind the player's device key to its screen (a screen paired before protocol 2)",
    body=DeviceKeyIn,
    extra_responses={401: "The proof does not hold", 409: "Bound to another key"},
)
def bind_device_key(body: DeviceKeyIn) -> None:
    db = get_session()
    device = _device()
    if keys.bind(db, device.id, body.hardware_id, body.proof.as_proof(), clock.now()):
        db.commit()


@api.route(
    bp,
    "/manifest",
    "GET",
    policy=DEVICE,
    summary="Poll: the screen's manifest, or 304 when If-None-Match holds its ETag",
    response=Manifest,
    extra_responses={304: "Not modified: the player's manifest is current"},
)
def manifest() -> Response:
    rt = _rt()
    now = rt.clock.now()
    asked = request.headers
    try:
        device, version = _device_and_version()
    except ServiceUnavailable:
        # The database is away. A screen this process knows still counts as seen: its beat
        # waits in the buffer and is written when the database is back. The poll is refused.
        token = bearer_token()
        known = rt.devices.last_known(token_digest(token)) if token else None
        if known is not None:
            rt.heartbeats.record(known, now, parse_status(asked.get(STATUS_HEADER)))
        raise
    rt.heartbeats.record(device.id, now, parse_status(asked.get(STATUS_HEADER)))
    answer = rt.poller.answer(device, version, now, _holds(asked.get("If-None-Match", "")))
    headers = {"ETag": f'"{answer.etag}"', "Cache-Control": "private, no-cache"}
    if answer.body is None:
        return Response(status=304, headers=headers)
    return Response(answer.body, mimetype="application/json", headers=headers)


def _holds(if_none_match: str) -> Callable[[str], bool]:
    """Whether the player holds a document with this ETag. A plain substring test of the
    header (`"<etag>"`, a list of them, `W/"<etag>"` or `*`): as exact as parsing it,
    since our ETags are 32 hex digits, and a fraction of the cost on the busiest route."""
    if if_none_match.strip() == "*":
        return lambda _etag: True
    return lambda etag: f'"{etag}"' in if_none_match


class PlayIn(Strict):
    id: str = Field(min_length=1, max_length=64)
    asset: str = Field(pattern=SHA256)
    playlist: str | None = Field(default=None, max_length=200)
    campaign: str | None = Field(default=None, max_length=300)
    start: AwareDatetime
    end: AwareDatetime


class PlaysIn(Strict):
    events: list[PlayIn] = Field(max_length=MAX_BATCH)


class PlaysOut(BaseModel):
    accepted: int
    duplicates: int


@api.route(
    bp,
    "/plays",
    "POST",
    policy=DEVICE,
    summary="Proof of play: a batch of events, stored once each",
    body=PlaysIn,
    response=PlaysOut,
    max_body=PLAYS_MAX_BYTES,
)
def plays(body: PlaysIn) -> PlaysOut:
    db = get_session()
    device = _device()
    result = record_plays(
        db,
        device,
        [Play(e.id, e.asset, e.playlist, e.campaign, e.start, e.end) for e in body.events],
        clock.now(),
    )
    db.commit()
    return PlaysOut(accepted=result.accepted, duplicates=result.duplicates)


@api.route(
    bp,
    "/screenshot",
    "POST",
    policy=DEVICE,
    summary="Upload the screen's current picture (JPEG or PNG)",
    raw_body="image/jpeg",
    max_body=lambda: _settings().screenshot_max_bytes,
    status=201,
    extra_responses={415: "Not a JPEG or PNG (or not what Content-Type says)"},
)
def screenshot() -> Response:
    db = get_session()
    device = _device()
    cap = _settings().screenshot_max_bytes
    if request.content_length is not None and request.content_length > cap:
        raise PayloadTooLarge(f"a screenshot is at most {cap} bytes")
    save_screenshot(
        db,
        storage.get_store(),
        device.id,
        cast(BinaryIO, request.stream),
        request.mimetype,
        cap,
        clock.now(),
    )
    db.commit()
    return Response(status=201)


class AckIn(Strict):
    ok: bool
    detail: str = Field(default="", max_length=500)


@api.route(
    bp,
    "/commands/<int:command_id>/ack",
    "POST",
    policy=DEVICE,
    summary="Acknowledge a command from the manifest (harmless when repeated)",
    body=AckIn,
)
def ack(command_id: int, body: AckIn) -> None:
    db = get_session()
    device = _device()
    commands.acknowledge(db, device.id, command_id, body.ok, body.detail, clock.now())
    db.commit()
