"""The server-process fixture itself: both kinds of server, restarts, the settable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.integration.conftest import StartServer

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kind", ["gunicorn", "serve"])
def test_start_restart_and_move_the_clock(start_server: StartServer, kind: str) -> None:
    server = start_server(kind=kind, settings={"poll_interval_s": 7})
    assert server.settings().poll_interval_s == 7
    instant = datetime(2030, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
    server.set_clock(instant)
    r = requests.get(server.url("/healthz"), timeout=5)
    assert int(r.headers["Signage-Server-Time"]) == int(instant.timestamp() * 1000)
    port = server.port
    server.restart()
    assert server.port == port
    server.set_clock(timedelta(days=-365))  # an offset from the system clock
    r = requests.get(server.url("/healthz"), timeout=5)
    now = datetime.now(UTC).timestamp() * 1000
    assert abs(int(r.headers["Signage-Server-Time"]) - (now - 365 * 86400 * 1000)) < 60_000
    server.set_clock(None)
    assert server.stop() is not None
    assert "Traceback" not in server.log()
