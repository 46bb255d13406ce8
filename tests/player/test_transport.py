"""The player's HTTP transport against a real local HTTP server: kept connections, redirects,
gzip, timeouts, proxies from the environment."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from player.transport import BodyTooLarge, TooManyRedirects, Transport, proxy_for


@dataclass
class Seen:
    connections: set[int] = field(default_factory=set)  # client ports: one per connection
    targets: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: Seen

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _answer(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self.seen.connections.add(self.client_address[1])
        self.seen.targets.append(self.path)
        self.seen.headers.append(dict(self.headers.items()))
        path = self.path.split("?")[0].rsplit("/", 1)[-1] if "://" in self.path else self.path
        if path in ("/plain", "plain"):
            self._answer(200, b"hello")
        elif path == "/bye":  # answers, then hangs up without saying so
            self._answer(200, b"bye")
            self.close_connection = True
        elif path == "/moved":
            self._answer(302, b"see there", Location="/plain")
        elif path == "/loop":
            self._answer(302, Location="/loop")
        elif path == "/doc":
            body = b'{"big": "' + b"x" * 5000 + b'"}'
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                self._answer(200, gzip.compress(body), Content_Encoding="gzip")
            else:
                self._answer(200, body)
        elif path == "/slow":
            self.seen.release.wait(10)
            self._answer(200, b"late")
        else:
            self._answer(404)

    def do_POST(self) -> None:  # noqa: N802
        self.seen.connections.add(self.client_address[1])
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.seen.targets.append("POST " + self.path)
        if self.path == "/form":
            self._answer(303, Location="/plain")
        else:
            self._answer(204)


@pytest.fixture
def server() -> Iterator[tuple[str, Seen]]:
    seen = Seen()
    handler = type("H", (Handler,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    seen.release.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def transport() -> Iterator[Transport]:
    t = Transport(user_agent="signage-player/test", connect_timeout=5, environ={})
    yield t
    t.close()


def test_one_connection_serves_many_requests(
    server: tuple[str, Seen], transport: Transport
) -> None:
    url, seen = server
    for _ in range(3):
        response = transport.request("GET", url + "/plain", read_timeout=5)
        assert response.status == 200 and response.read(100) == b"hello"
    response = transport.request("POST", url + "/ack", body=b"{}", read_timeout=5)
    assert response.status == 204
    response.close()
    assert len(seen.connections) == 1
    assert seen.headers[0]["User-Agent"] == "signage-player/test"


def test_a_connection_the_server_closed_is_replaced(
    server: tuple[str, Seen], transport: Transport
) -> None:
    url, seen = server
    assert transport.request("GET", url + "/bye", read_timeout=5).read(10) == b"bye"
    assert transport.request("GET", url + "/plain", read_timeout=5).read(10) == b"hello"
    assert len(seen.connections) == 2


def test_redirects_are_followed_and_bounded(server: tuple[str, Seen], transport: Transport) -> None:
    url, seen = server
    response = transport.request("GET", url + "/moved", read_timeout=5)
    assert response.status == 200 and response.url == url + "/plain"
    response.close()
    response = transport.request("POST", url + "/form", body=b"x=1", read_timeout=5)
    assert response.status == 200 and seen.targets[-1] == "/plain"  # 303: GET from there
    response.close()
    with pytest.raises(TooManyRedirects):
        transport.request("GET", url + "/loop", read_timeout=5)


def test_documents_may_come_gzipped_media_never(
    server: tuple[str, Seen], transport: Transport
) -> None:
    url, seen = server
    response = transport.request("GET", url + "/doc", read_timeout=5)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.read(10_000).startswith(b'{"big": "xxx')
    media = transport.request("GET", url + "/doc", read_timeout=5, compressed=False)
    assert seen.headers[-1]["Accept-Encoding"] == "identity"
    assert b"".join(media.chunks(1000)).endswith(b'x"}')
    with pytest.raises(BodyTooLarge):
        transport.request("GET", url + "/doc", read_timeout=5).read(1000)


def test_a_silent_server_times_out(server: tuple[str, Seen], transport: Transport) -> None:
    url, seen = server
    with pytest.raises(TimeoutError):
        transport.request("GET", url + "/slow", read_timeout=0.2)
    seen.release.set()


def test_a_plain_http_proxy_gets_the_whole_url_and_the_credentials(
    server: tuple[str, Seen],
) -> None:
    proxy_url, seen = server  # the test server stands in for the proxy: it sees the request
    environ = {"http_proxy": proxy_url.replace("http://", "http://ann:s%40cret@")}
    transport = Transport(user_agent="t", connect_timeout=5, environ=environ)
    try:
        response = transport.request("GET", "http://signage.example/plain?x=1", read_timeout=5)
        assert response.read(10) == b"hello"
    finally:
        transport.close()
    assert seen.targets == ["http://signage.example/plain?x=1"]
    assert seen.headers[0]["Host"] == "signage.example"
    assert seen.headers[0]["Proxy-Authorization"] == "Basic YW5uOnNAY3JldA=="  # ann:s@cret


def test_no_proxy_and_the_proxy_variables() -> None:
    env = {"https_proxy": "http://p:3128", "HTTP_PROXY": "http://q:3128", "no_proxy": "lan,.local"}
    assert proxy_for("https", "signage.example", env) == "http://p:3128"
    assert proxy_for("http", "signage.example", env) == "http://q:3128"
    assert proxy_for("https", "lan", env) is None
    assert proxy_for("https", "screens.local", env) is None
    assert proxy_for("https", "x", {"https_proxy": "http://p", "NO_PROXY": "*"}) is None
    assert proxy_for("https", "x", {}) is None
    for here in ("localhost", "127.0.0.1", "::1"):  # never through a proxy
        assert proxy_for("http", here, {"http_proxy": "http://q:3128"}) is None
