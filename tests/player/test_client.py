"""The HTTP client's pure parts: backoff, header parsing, error mapping, URL and range handling.

Requests over the wire are exercised by the integration tests against the real server.
"""

from __future__ import annotations

import errno
import http.client
import json
import random
import socket
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from player.client import (
    USER_AGENT,
    Backoff,
    ServerClient,
    error_for,
    jittered,
    media_start,
    parse_hello,
    parse_retry_after,
    parse_server_time,
    resolve_url,
    unreachable_reason,
)
from player.clock import SystemClock
from player.errors import (
    EnrolmentRefused,
    NotFound,
    PlayerError,
    ProtocolError,
    ServerRefused,
    Unauthorized,
)
from player.protocol import Paired, Pairing

NOW = datetime(2022, 9, 5, 2, 0, tzinfo=UTC)


def test_backoff_delays_stay_within_full_jitter_bounds_and_cap() -> None:
    backoff = Backoff(base_s=1.0, cap_s=300.0, rng=random.Random(7))
    for n in range(20):
        ceiling = min(300.0, 2.0**n)
        assert backoff.ceiling() == ceiling
        assert 0.0 <= backoff.next_delay() <= ceiling
    assert backoff.ceiling() == 300.0


def test_backoff_is_spread_over_the_whole_interval() -> None:
    rng = random.Random(3)
    delays = []
    for _ in range(2000):
        backoff = Backoff(base_s=1.0, cap_s=300.0, rng=rng)
        for _ in range(12):  # ceiling 2**12 > cap: the cap applies
            backoff.next_delay()
        delays.append(backoff.next_delay())
    assert max(delays) <= 300.0
    assert min(delays) < 15.0 and max(delays) > 285.0  # full jitter, not equal jitter
    assert 135.0 < statistics.mean(delays) < 165.0


def test_backoff_resets_after_success_and_respects_retry_after() -> None:
    backoff = Backoff(rng=random.Random(1))
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.failures == 0 and backoff.ceiling() == 1.0
    assert backoff.next_delay(retry_after=120.0) >= 120.0


def test_poll_interval_jitter_is_ten_percent() -> None:
    rng = random.Random(5)
    values = [jittered(30.0, rng) for _ in range(1000)]
    assert all(27.0 <= v <= 33.0 for v in values)
    assert min(values) < 27.5 and max(values) > 32.5


def test_server_time_header() -> None:
    assert parse_server_time("1662343200123") == datetime(2022, 9, 5, 2, 0, 0, 123000, tzinfo=UTC)
    assert parse_server_time(None) is None
    assert parse_server_time("soon") is None
    assert parse_server_time("-5") is None


def test_retry_after_as_seconds_or_date() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Mon, 05 Sep 2022 02:01:30 GMT", NOW) == 90.0
    assert parse_retry_after("Mon, 05 Sep 2022 01:00:00 GMT", NOW) == 0.0
    assert parse_retry_after("whenever", NOW) is None
    assert parse_retry_after(None, NOW) is None


@pytest.mark.parametrize(
    ("status", "route", "kind"),
    [
        (401, "manifest", Unauthorized),
        (403, "hello", EnrolmentRefused),
        (403, "manifest", ServerRefused),
        (404, "media", NotFound),
        (503, "manifest", ServerRefused),
    ],
)
def test_error_statuses_become_player_errors(
    status: int, route: str, kind: type[ServerRefused]
) -> None:
    error = error_for(status, b"", 5.0, route=route)
    assert type(error) is kind
    assert isinstance(error, PlayerError)
    assert error.status == status and error.retry_after == 5.0


def test_problem_details_are_kept() -> None:
    body = json.dumps(
        {
            "title": "Unprocessable",
            "status": 422,
            "detail": "2 bad events",
            "errors": [{"field": "events[3].end", "reason": "before start"}, "junk"],
        }
    ).encode()
    error = error_for(422, body, None)
    assert error.detail == "2 bad events"
    assert error.errors == [{"field": "events[3].end", "reason": "before start"}]
    assert error_for(500, b"<html>oops</html>", None).detail == ""


def test_asset_urls_are_relative_to_the_base_url() -> None:
    assert resolve_url("http://s:8000", "/media/ab.png") == "http://s:8000/media/ab.png"
    assert resolve_url("https://h/signage/", "/media/ab.png") == "https://h/signage/media/ab.png"
    assert resolve_url("https://h", "https://cdn.example/ab") == "https://cdn.example/ab"


def test_media_response_start() -> None:
    assert media_start(200, None, 500) == 0  # Range ignored: whole body
    assert media_start(206, "bytes 500-999/1000", 500) == 500
    with pytest.raises(ProtocolError):
        media_start(206, "bytes 0-999/1000", 500)
    with pytest.raises(ProtocolError):
        media_start(206, None, 500)


def test_hello_answers() -> None:
    pairing = parse_hello(
        {"state": "pairing", "pairing_code": "K7M2QX", "expires_at": "2022-09-05T02:15:00.000Z"}
    )
    assert isinstance(pairing, Pairing)
    assert pairing.code == "K7M2QX" and pairing.retry_after == 5.0
    assert pairing.expires_at == NOW + timedelta(minutes=15)
    paired = parse_hello({"state": "paired", "device_token": "sgd_x", "screen_id": 17})
    assert paired == Paired("sgd_x", 17)
    for bad in ({"state": "paired"}, {"state": "odd"}, {"state": "pairing"}):
        with pytest.raises(ProtocolError):
            parse_hello(bad)


def test_client_identifies_the_player() -> None:
    client = ServerClient("http://s:8000/", clock=SystemClock())
    assert client.base_url == "http://s:8000"
    assert client._http.user_agent == USER_AGENT
    assert USER_AGENT.startswith("signage-player/")
    client.close()


def test_unreachable_reasons_are_short() -> None:
    assert unreachable_reason(ConnectionRefusedError(111, "refused")) == "connection refused"
    assert unreachable_reason(socket.gaierror(-2, "Name or service not known")) == (
        "host name not resolved"
    )
    assert unreachable_reason(TimeoutError("timed out")) == "timed out"
    assert unreachable_reason(http.client.RemoteDisconnected("closed")) == (
        "connection closed by the server"
    )
    assert unreachable_reason(OSError(errno.ENETUNREACH, "x")) == "network unreachable"
