"""Content for protocol tests: real images in a real store, campaigns published through the
campaigns workflow (the same code an operator's publish runs), players paired over HTTP."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.assets.models import Asset
from server.campaigns import workflow
from server.campaigns.models import Campaign, Publication
from server.config import Settings
from server.media.store import MediaStore
from tests.factories import make_campaign, upload


def png_bytes(colour: str, size: tuple[int, int] = (640, 360)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(colour: str, size: tuple[int, int] = (320, 180)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def image_asset(
    session: Session,
    store: MediaStore,
    org: Organisation,
    colour: str,
    now: datetime,
    size: tuple[int, int] = (640, 360),
) -> Asset:
    return upload(session, store, org, png_bytes(colour, size), f"{colour}.png", now)


def campaign(
    session: Session,
    org: Organisation,
    name: str,
    now: datetime,
    *,
    playlists: Mapping[str, Sequence[tuple[Asset, int]]],
    entries: Sequence[Mapping[str, Any]],
    timezone: str = "Asia/Shanghai",
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
    targets: Mapping[str, Any] | None = None,
) -> Campaign:
    """A draft campaign, committed; each entry names its playlist and any entry fields."""
    row = make_campaign(
        session,
        org,
        name,
        now,
        playlists=playlists,
        entries=entries,
        timezone=timezone,
        start=start,
        end=end,
        targets=targets,
    )
    session.commit()
    return row


def publish(
    session: Session, row: Campaign, now: datetime, settings: Settings, **kwargs: Any
) -> Publication:
    publication = workflow.publish(session, row, workflow.SYSTEM, now, settings, **kwargs)
    session.commit()
    return publication


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def proof(key: Ed25519PrivateKey, hardware_id: str, at: datetime) -> dict[str, str]:
    """A device-key proof as a protocol-2 player makes it (docs/player-protocol.md §1)."""
    public = b64url(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    when = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    message = f"signage-hello/2\n{hardware_id}\n{public}\n{when}".encode()
    return {"device_key": public, "at": when, "signature": b64url(key.sign(message))}


def public_key(key: Ed25519PrivateKey) -> str:
    return b64url(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def pair(
    client: FlaskClient,
    operator_headers: Mapping[str, str],
    org_id: int,
    *,
    hardware_id: str = "hw-1",
    width: int = 1920,
    height: int = 1080,
    group_ids: Sequence[int] = (),
    timezone: str = "Asia/Shanghai",
    name: str | None = None,
    key: Ed25519PrivateKey | None = None,
    now: datetime | None = None,
    replace_screen_id: int | None = None,
) -> tuple[str, int]:
    """Pair a player over the protocol: hello ▸ claim ▸ hello; its token and screen id. With
    `key` (and the server's `now`), the hellos prove it (protocol 2); without, version 1."""
    hello: dict[str, Any] = {
        "hardware_id": hardware_id,
        "player_version": "0.1.0",
        "width": width,
        "height": height,
    }
    if key is not None:
        assert now is not None, "a proof needs the server's time"
        hello["proof"] = proof(key, hardware_id, now)
    r = client.post("/api/v1/player/hello", json=hello)
    assert r.status_code == 200 and r.json["state"] == "pairing", r.json
    claim = {
        "code": r.json["pairing_code"],
        "organisation_id": org_id,
        "group_ids": list(group_ids),
        "timezone": timezone,
        **({"name": name} if name else {}),
        **({"replace_screen_id": replace_screen_id} if replace_screen_id else {}),
    }
    r = client.post("/api/v1/pairings/claim", json=claim, headers=dict(operator_headers))
    assert r.status_code == 201, r.json
    r = client.post("/api/v1/player/hello", json=hello)
    assert r.status_code == 200 and r.json["state"] == "paired", r.json
    return r.json["device_token"], r.json["screen_id"]


def device(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}
