"""The player's HTTP client against the real server: every answer of the protocol, as the
player's own types, with the server's clock read from every one of them."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests
from PIL import Image

from player.client import ServerClient
from player.clock import OffsetEstimator, SystemClock, iso_ms
from player.errors import EnrolmentRefused, NotFound, ServerRefused, Unauthorized
from player.protocol import HelloRequest, Paired, Pairing, PlaysReply
from tests.integration.conftest import ServerProcess, StartServer
from tests.integration.player.conftest import ContentFor
from tests.integration.player.content import TIMEOUT, Content, png
from tests.integration.player.proxy import Proxy

pytestmark = pytest.mark.integration
SKEW = timedelta(hours=1)  # the server's clock runs an hour ahead of ours


@dataclass
class Wire:
    """A ServerClient talking through a recording proxy, to see each status on the wire."""

    proxy: Proxy
    estimator: OffsetEstimator = field(default_factory=OffsetEstimator)
    client: ServerClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = ServerClient(
            self.proxy.base_url, clock=SystemClock(), estimator=self.estimator
        )

    def fresh_clock(self) -> OffsetEstimator:
        """A new estimator, to see what the next call alone tells it."""
        self.estimator = OffsetEstimator()
        self.client._estimator = self.estimator
        return self.estimator

    def last(self) -> int:
        return self.proxy.seen[-1].status


def hello(hardware_id: str, enrol_token: str | None = None) -> HelloRequest:
    return HelloRequest(hardware_id, "0.1.0", 320, 180, name=hardware_id, enrol_token=enrol_token)


def assert_server_time(estimator: OffsetEstimator) -> None:
    best = estimator.best()
    assert best is not None, "no Signage-Server-Time read"
    assert abs(best.offset - SKEW) < timedelta(seconds=2)


@pytest.fixture
def setup(
    start_server: StartServer, content_for: ContentFor
) -> Iterator[tuple[ServerProcess, Content, Wire]]:
    server = start_server(
        settings={"poll_interval_s": 2, "publish_margin_s": 0, "screen_profiles": "320x180"}
    )
    server.set_clock(SKEW)
    proxy = Proxy(server.port).start()
    wire = Wire(proxy)
    yield server, content_for(server), wire
    wire.client.close()
    proxy.close()


def test_hello_pairs_by_code_and_by_enrolment_token_and_refuses_a_bad_token(
    setup: tuple[ServerProcess, Content, Wire],
) -> None:
    server, content, wire = setup
    answer = wire.client.hello(hello("hw-code"))
    assert isinstance(answer, Pairing) and len(answer.code) == 6 and wire.last() == 200
    claim = {"code": answer.code, "organisation_id": content.organisation_id, "name": "Lobby"}
    r = requests.post(
        server.url("/api/v1/pairings/claim"), json=claim, headers=content.headers, timeout=TIMEOUT
    )
    assert r.status_code == 201, r.text
    paired = wire.client.hello(hello("hw-code"))
    assert isinstance(paired, Paired) and paired.device_token.startswith("sgd_")
    assert paired.screen_id == r.json()["id"] and wire.last() == 200

    enrolled = wire.client.hello(hello("hw-enrol", content.enrolment_token()))
    assert isinstance(enrolled, Paired) and wire.last() == 201

    wire.fresh_clock()
    with pytest.raises(EnrolmentRefused) as refused:
        wire.client.hello(hello("hw-bad", "sge_not-a-real-token"))
    assert refused.value.status == 403 and wire.last() == 403
    assert [e["field"] for e in refused.value.errors] == ["enrol_token"]
    assert_server_time(wire.estimator)  # errors carry the server's clock too


def enrol(wire: Wire, content: Content, hardware_id: str = "hw-1") -> Paired:
    paired = wire.client.hello(hello(hardware_id, content.enrolment_token()))
    assert isinstance(paired, Paired)
    return paired


def test_manifest_answers_200_then_304_and_401_each_with_the_server_time(
    setup: tuple[ServerProcess, Content, Wire],
) -> None:
    server, content, wire = setup
    token = enrol(wire, content).device_token
    status = '{"manifest":null,"asset":null,"errors":["asset 3fa undecodable"]}'

    clock = wire.fresh_clock()
    reply = wire.client.manifest(token, None, status)
    assert wire.last() == 200 and reply.body is not None
    assert reply.etag == f'"{reply.body["version"]}"' and reply.body["protocol"] == 1
    assert_server_time(clock)

    clock = wire.fresh_clock()
    again = wire.client.manifest(token, reply.etag, None)
    assert wire.last() == 304 and again.not_modified and again.etag == reply.etag
    assert_server_time(clock)

    clock = wire.fresh_clock()
    with pytest.raises(Unauthorized):
        wire.client.manifest("sgd_unknown", reply.etag, None)
    assert wire.last() == 401
    assert_server_time(clock)


def test_media_whole_from_an_offset_and_unknown(setup: tuple[ServerProcess, Content, Wire]) -> None:
    server, content, wire = setup
    poster = content.image(png((200, 30, 30), (640, 360)), "red.png")
    content.publish(content.campaign("W", {"w": [(poster, 1000)]}, [{"playlist": "w"}]))
    token = enrol(wire, content).device_token
    body = wire.client.manifest(token, None, None).body
    assert body is not None
    [(sha, ref)] = body["assets"].items()

    def read(url: str, offset: int) -> tuple[int, bytes]:
        with wire.client.open_media(url, offset) as media:
            return media.start, b"".join(media.chunks)

    start, whole = read(ref["url"], 0)
    assert wire.last() == 200 and start == 0 and hashlib.sha256(whole).hexdigest() == sha
    assert len(whole) == ref["size"]
    start, rest = read(ref["url"], 100)
    assert wire.last() == 206 and start == 100 and rest == whole[100:]
    with pytest.raises(NotFound):
        read("/media/" + "0" * 64 + ".png", 0)
    assert wire.last() == 404


def test_plays_screenshots_and_acknowledgements(setup: tuple[ServerProcess, Content, Wire]) -> None:
    server, content, wire = setup
    paired = enrol(wire, content)
    token = paired.device_token
    now = content.now()
    event: dict[str, Any] = {
        "id": "6f1c2d3e-0000-4000-8000-000000000001",
        "asset": "a" * 64,
        "playlist": "week",
        "campaign": "Cybersecurity Week",
        "start": iso_ms(now - timedelta(seconds=20)),
        "end": iso_ms(now - timedelta(seconds=10)),
    }
    backwards = {**event, "id": "6f1c2d3e-0000-4000-8000-000000000002", "end": event["start"]}
    backwards["start"] = iso_ms(now - timedelta(seconds=5))
    with pytest.raises(ServerRefused) as refused:
        wire.client.upload_plays(token, [event, backwards])
    assert refused.value.status == 422 and wire.last() == 422
    assert [e["field"] for e in refused.value.errors] == ["events[1].end"]
    assert wire.client.upload_plays(token, [event]) == PlaysReply(1, 0)
    assert wire.client.upload_plays(token, [event]) == PlaysReply(0, 1)  # idempotent by id

    shot = io.BytesIO()
    Image.new("RGB", (320, 180), (10, 120, 200)).save(shot, "JPEG")
    wire.client.upload_screenshot(token, shot.getvalue(), "image/jpeg")
    assert wire.last() == 201
    with pytest.raises(ServerRefused) as too_big:
        wire.client.upload_screenshot(token, b"\xff\xd8" + b"\0" * (2 * 1024 * 1024), "image/jpeg")
    assert too_big.value.status == 413 and wire.last() == 413

    r = requests.post(
        server.url(f"/api/v1/screens/{paired.screen_id}/commands"),
        json={"kind": "refresh"},
        headers=content.headers,
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    body = wire.client.manifest(token, None, None).body
    assert body is not None
    [command] = body["commands"]
    assert command["kind"] == "refresh"
    wire.client.ack_command(token, command["id"], True, "polled")
    assert wire.last() == 204
    wire.client.ack_command(token, command["id"], True, "polled")  # harmless twice
    assert wire.last() == 204
    body = wire.client.manifest(token, None, None).body
    assert body is not None and body["commands"] == []
