"""The device key (protocol 2): what proves to the server that this player is this device.

An Ed25519 key is made at first start from 32 random bytes and kept in
`DATA_DIR/device-key` (mode 0600, written atomically); the server binds the screen to its
public half. Every `hello` carries a proof: a signature over the hardware id, the public key
and the server-corrected instant (docs/player-protocol.md §1). The hardware id alone is no
longer enough to take a screen.

The `cryptography` library costs about 9 MB of resident memory once imported, so it is
imported only when a proof is made: a paired player that starts with its token never loads it.
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from player.files import atomic_write_bytes

log = logging.getLogger(__name__)

KEY_FILE: Final = "device-key"
SEED_BYTES: Final = 32


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def instant(at: datetime) -> str:
    """The protocol's instant format: UTC, milliseconds, `Z`."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def proof_message(hardware_id: str, device_key: str, at: str) -> bytes:
    return f"signage-hello/2\n{hardware_id}\n{device_key}\n{at}".encode()


class DeviceKey:
    """The private key's 32-byte seed; signs proofs."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_BYTES:
            raise ValueError("a device key seed is 32 bytes")
        self._seed = seed
        self._public: str | None = None

    @classmethod
    def generate(cls) -> DeviceKey:
        return cls(secrets.token_bytes(SEED_BYTES))

    @classmethod
    def load_or_create(cls, data_dir: Path) -> DeviceKey:
        """The key in `data_dir`, made (and kept, 0600) at first start. An unreadable key
        file is replaced by a new key: the screen's operator must then accept this device
        as a replacement, which is what a lost key has to cost."""
        path = data_dir / KEY_FILE
        try:
            seed = path.read_bytes()
        except FileNotFoundError:
            seed = b""
        if len(seed) == SEED_BYTES:
            return cls(seed)
        if seed:
            log.warning("%s is damaged: making a new device key", path)
        key = cls.generate()
        atomic_write_bytes(path, key._seed)  # mkstemp makes it 0600 from the start
        path.chmod(0o600)
        return key

    def _private(self) -> Any:
        from cryptography.hazmat.primitives.asymmetric import ed25519  # local: 9 MB, see above

        return ed25519.Ed25519PrivateKey.from_private_bytes(self._seed)

    @property
    def public_key(self) -> str:
        """The public key, base64url without padding (43 characters)."""
        if self._public is None:
            from cryptography.hazmat.primitives import serialization as ser  # local: see above

            raw = self._private().public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
            self._public = b64url(raw)
        return self._public

    def prove(self, hardware_id: str, at: datetime) -> dict[str, str]:
        """The `proof` object of a hello (or of binding the key) at instant `at`."""
        when = instant(at)
        signature = self._private().sign(proof_message(hardware_id, self.public_key, when))
        return {"device_key": self.public_key, "at": when, "signature": b64url(signature)}
