"""The status header and systemd notifications."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from player.sdnotify import notify, watchdog_interval_s
from player.status import HEADER_LIMIT, Status, disk_free, encode_status


def status(**kw: object) -> Status:
    values: dict[str, object] = {
        "manifest": "9f2c",
        "asset": "a" * 64,
        "playlist": "week",
        "uptime_s": 86400,
        "disk_free_bytes": 1234567,
        "cache_shortage_bytes": 0,
        "dropped_events": 0,
        "errors": [],
    }
    values.update(kw)
    return Status(**values)  # type: ignore[arg-type]


def test_status_is_compact_ascii_json_with_the_protocol_fields() -> None:
    text, carried = encode_status(status(playlist="网络安全周", errors=["asset 3fa undecodable"]))
    assert text.isascii() and " " not in text.replace("asset 3fa undecodable", "")
    body = json.loads(text)
    assert set(body) == {
        "manifest",
        "asset",
        "playlist",
        "player_version",
        "uptime_s",
        "disk_free_bytes",
        "cache_shortage_bytes",
        "dropped_events",
        "errors",
    }
    assert body["playlist"] == "网络安全周" and carried == 1


def test_errors_are_shortened_and_dropped_until_the_header_fits() -> None:
    errors = [f"error {i}: " + "x" * 1000 for i in range(30)]
    text, carried = encode_status(status(errors=errors))
    assert len(text) <= HEADER_LIMIT
    body = json.loads(text)
    assert 0 < carried < 30 and len(body["errors"]) == carried
    assert all(len(e) <= 200 for e in body["errors"])
    assert body["errors"][0].startswith("error 0:")  # the oldest go first


def test_even_absurd_names_stay_under_the_limit() -> None:
    text, carried = encode_status(status(playlist="p" * 10_000, errors=["e"]))
    assert len(text) <= HEADER_LIMIT and carried == 0
    assert json.loads(text)["manifest"] == "9f2c"


def test_disk_free(tmp_path: Path) -> None:
    assert disk_free(tmp_path) > 0
    assert disk_free(tmp_path / "missing") == 0


def test_notify_sends_datagrams_to_the_service_manager(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        manager.bind(str(path))
        assert notify("READY=1", {"NOTIFY_SOCKET": str(path)})
        assert manager.recv(100) == b"READY=1"
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": str(path)})
        assert manager.recv(100) == b"WATCHDOG=1"


def test_notify_with_an_abstract_socket() -> None:
    name = f"signage-player-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        manager.bind("\0" + name)
        assert notify("STOPPING=1", {"NOTIFY_SOCKET": "@" + name})
        assert manager.recv(100) == b"STOPPING=1"


def test_notify_outside_systemd_is_a_no_op(tmp_path: Path) -> None:
    assert not notify("READY=1", {})
    assert not notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})


def test_watchdog_interval_is_half_the_timeout() -> None:
    assert watchdog_interval_s({"WATCHDOG_USEC": "60000000"}) == 30.0
    assert watchdog_interval_s({}) is None
    assert watchdog_interval_s({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}) is None
