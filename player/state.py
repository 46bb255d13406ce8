"""What the player keeps between runs (device token, hardware id) and what its loops share."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from player.files import atomic_write_bytes, atomic_write_json, read_json
from player.protocol import Pairing

log = logging.getLogger(__name__)

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_PRINTABLE = re.compile(r"^[\x21-\x7e]{1,128}$")


@dataclass(frozen=True)
class Device:
    token: str
    screen_id: int | None = None
    # Whether the server has this player's device key for the screen: always so when paired
    # with protocol 2; a token kept from a version-1 player binds its key once (network.py).
    key_bound: bool = True


class DeviceStore:
    """`device.json`: the device token, replaced atomically, forgotten on a 401."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Device | None:
        data = read_json(self.path)
        if not isinstance(data, dict) or not isinstance(data.get("device_token"), str):
            return None
        screen = data.get("screen_id")
        return Device(
            data["device_token"],
            screen if isinstance(screen, int) else None,
            key_bound=data.get("key_bound") is True,
        )

    def save(self, device: Device, server: str) -> None:
        atomic_write_json(
            self.path,
            {
                "device_token": device.token,
                "screen_id": device.screen_id,
                "server": server,
                "key_bound": device.key_bound,
            },
        )
        self.path.chmod(0o600)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def valid_hardware_id(value: str) -> bool:
    """1–128 printable ASCII characters, as hello requires."""
    return bool(_PRINTABLE.match(value))


def detect_hardware_id(data_dir: Path, sys_net: Path = Path("/sys/class/net")) -> str:
    """A stable id for this device: the MAC of its first physical network interface, else
    /etc/machine-id, else a random id kept in `data_dir/hardware-id`."""
    try:
        for iface in sorted(sys_net.iterdir()):
            if not (iface / "device").exists():  # virtual: lo, docker0, veth…
                continue
            mac = (iface / "address").read_text(encoding="ascii").strip().lower()
            if _MAC.match(mac) and mac != "00:00:00:00:00:00":
                return mac
    except OSError:
        pass
    try:
        machine = Path("/etc/machine-id").read_text(encoding="ascii").strip()
        if valid_hardware_id(machine):
            return machine
    except OSError:
        pass
    kept = data_dir / "hardware-id"
    try:
        value = kept.read_text(encoding="ascii").strip()
        if valid_hardware_id(value):
            return value
    except OSError:
        pass
    value = uuid.uuid4().hex
    atomic_write_bytes(kept, value.encode("ascii"))
    return value


class SharedState:
    """The few facts the playback, network and download loops exchange, behind one lock."""

    def __init__(self, device: Device | None) -> None:
        self._lock = threading.Lock()
        self.device = device
        self.pairing: Pairing | None = None
        self.on_screen: tuple[str | None, str | None] = (None, None)  # asset, playlist
        self.cache_shortage_bytes = 0
        self.exit_code: int | None = None
        self.answers = 0  # polls the server answered: the downloads' cue that it is back
        # Set when what is on screen may have to change before the playback loop's next
        # planned look (a manifest activated, an asset cached), so it looks at once.
        self.woken = threading.Event()
        self._screenshot_wanted = False
        self._screenshot: bytes | None = None

    def set_device(self, device: Device | None) -> None:
        with self._lock:
            self.device = device
            self.pairing = None

    def set_pairing(self, pairing: Pairing | None) -> None:
        with self._lock:
            self.pairing = pairing

    def request_screenshot(self) -> None:
        with self._lock:
            self._screenshot_wanted = True

    def screenshot_wanted(self) -> bool:
        with self._lock:
            return self._screenshot_wanted

    def deliver_screenshot(self, jpeg: bytes) -> None:
        with self._lock:
            self._screenshot_wanted = False
            self._screenshot = jpeg

    def take_screenshot(self) -> bytes | None:
        """The screenshot delivered since the last call, if any."""
        with self._lock:
            shot, self._screenshot = self._screenshot, None
            return shot

    def server_answered(self) -> None:
        with self._lock:
            self.answers += 1

    def stop(self, code: int) -> None:
        with self._lock:
            if self.exit_code is None:
                self.exit_code = code

    @property
    def stopping(self) -> bool:
        return self.exit_code is not None
