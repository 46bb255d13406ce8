"""The device key: made once, kept private, proving every hello; a version-1 token binds it."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from player.keys import KEY_FILE, DeviceKey, proof_message
from tests.player.fakes import FakeServer, Rig, drive
from tests.player.test_agent import week

MakeRig = Callable[..., Rig]


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _verifies(hardware_id: str, proof: dict[str, str]) -> bool:
    key = Ed25519PublicKey.from_public_bytes(_unb64(proof["device_key"]))
    message = proof_message(hardware_id, proof["device_key"], proof["at"])
    key.verify(_unb64(proof["signature"]), message)
    return True


def test_the_key_is_made_once_private_and_reused(tmp_path: Path) -> None:
    first = DeviceKey.load_or_create(tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(path.read_bytes()) == 32
    assert DeviceKey.load_or_create(tmp_path).public_key == first.public_key
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    path.write_bytes(b"damaged")
    assert DeviceKey.load_or_create(tmp_path).public_key != first.public_key
    at = datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC)
    proof = first.prove("hw", at)
    assert proof["at"] == "2026-01-05T09:00:00.123Z" and _verifies("hw", proof)


def test_every_hello_proves_the_key_at_the_server_time(
    server: FakeServer, make_rig: MakeRig
) -> None:
    rig = make_rig()
    drive([rig], 12)
    assert len(server.hellos) >= 2
    ats = [h.proof["at"] for h in server.hellos if h.proof]
    assert len(ats) == len(server.hellos) and len(set(ats)) == len(ats)  # fresh each time
    for hello in server.hellos:
        assert hello.proof is not None and _verifies(hello.hardware_id, hello.proof)
    server.claim(rig.agent.network._hello.hardware_id)
    drive([rig], 5)
    device = json.loads((rig.data_dir / "device.json").read_text())
    assert device["key_bound"] is True and server.bound == []


def test_a_version_1_token_binds_the_key_once(
    server: FakeServer, make_rig: MakeRig, tmp_path: Path
) -> None:
    server.publish(*week())
    server.tokens.add("sgd_old")
    (tmp_path / "p1").mkdir()
    saved = {"device_token": "sgd_old", "screen_id": 17, "server": "http://signage.test"}
    (tmp_path / "p1" / "device.json").write_text(json.dumps(saved))  # as version 1 left it
    rig = make_rig()
    drive([rig], 70)
    assert len(server.bound) == 1
    token, hardware_id, proof = server.bound[0]
    assert token == "sgd_old" and _verifies(hardware_id, proof)
    assert json.loads((rig.data_dir / "device.json").read_text())["key_bound"] is True
    assert server.hellos == []
