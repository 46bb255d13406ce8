"""Device keys (protocol 2): a player proves it holds the private half of its Ed25519 key.

The proof is a signature over `signage-hello/2`, the hardware id, the public key and an
instant, each on its own line; the instant must lie within `PROOF_WINDOW` of the server's
clock (the player signs with its server-corrected clock). The server keeps public keys
only, so a copy of its database lets no one prove a device.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from server.auth import audit
from server.errors import Conflict, FieldError, Unauthorized
from server.screens.models import Screen

PROOF_WINDOW: Final = timedelta(minutes=5)
KEY_PATTERN: Final = r"^[A-Za-z0-9_-]{43}$"  # 32 bytes, base64url without padding
SIGNATURE_PATTERN: Final = r"^[A-Za-z0-9_-]{86}$"  # 64 bytes
INSTANT_PATTERN: Final = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$"


@dataclass(frozen=True)
class ScreenDevice:
    """A player, as the author of an audit event."""

    screen_id: int

    @property
    def user_id(self) -> int | None:
        return None

    @property
    def label(self) -> str:
        return f"device of screen {self.screen_id}"


@dataclass(frozen=True)
class KeyProof:
    """What a player sends to prove its key: the public key, the instant, the signature."""

    device_key: str
    at: str
    signature: str


def proof_message(hardware_id: str, device_key: str, at: str) -> bytes:
    return f"signage-hello/2\n{hardware_id}\n{device_key}\n{at}".encode()


def _b64(value: str, size: int, field: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise _refused(field, "is not base64url of the right length")
    return raw


def _refused(field: str, reason: str) -> Unauthorized:
    return Unauthorized(f"device key proof refused: {reason}", [FieldError(field, reason)])


def verify(hardware_id: str, proof: KeyProof, now: datetime) -> str:
    """The proven public key; Unauthorized naming the field when the proof does not hold."""
    if not re.match(KEY_PATTERN, proof.device_key):
        raise _refused("proof.device_key", "is not a base64url Ed25519 public key")
    if not re.match(INSTANT_PATTERN, proof.at):
        raise _refused("proof.at", "is not an RFC 3339 instant in UTC")
    at = datetime.fromisoformat(proof.at)
    if abs(at - now) > PROOF_WINDOW:
        raise _refused("proof.at", "is too far from the server's time")
    key = _b64(proof.device_key, 32, "proof.device_key")
    signature = _b64(proof.signature, 64, "proof.signature")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(
            signature, proof_message(hardware_id, proof.device_key, proof.at)
        )
    except (InvalidSignature, ValueError):
        raise _refused("proof.signature", "does not verify with this key") from None
    return proof.device_key


def bind(
    session: Session, screen_id: int, hardware_id: str, proof: KeyProof, now: datetime
) -> bool:
    """Bind the proven key to a screen that has none (a version-1 screen whose player was
    upgraded: it authenticates with its device token). True when it was bound just now;
    False when it already was to this key; 409 when to another key or another hardware id."""
    device_key = verify(hardware_id, proof, now)
    screen = session.get(Screen, screen_id)
    if screen is None:  # pragma: no cover - the device token names an existing screen
        raise Unauthorized("unknown screen")
    if screen.hardware_id != hardware_id:
        raise Conflict(
            "this screen has another hardware id", [FieldError("hardware_id", "not this screen's")]
        )
    if screen.device_key == device_key:
        return False
    if screen.device_key is not None:
        raise Conflict(
            "this screen is bound to another device key; an operator must replace its device",
            [FieldError("proof.device_key", "not the key bound to this screen")],
        )
    screen.device_key = device_key
    audit.record(
        session,
        ScreenDevice(screen.id),
        now,
        "bind",
        "device_key",
        screen.id,
        screen.organisation_id,
        after={"device_key": device_key},
    )
    return True
