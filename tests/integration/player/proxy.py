"""A tiny real HTTP proxy between players and the server: slows media down, flips a byte.

Everything is forwarded as it is (method, path, headers, body; the answer's status, headers
and body), so the player talks to the real server through it. For `/media/...` answers it
can pace the bytes (`rate_bytes_s`), count them (`media_bytes`, for killing a player at a
chosen point of its downloads), and damage one byte of the next answers for a given hash
(`corrupt[sha] = how many`). Every request is recorded with its monotonic time.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHUNK = 16 * 1024
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


@dataclass(frozen=True)
class Seen:
    at: float  # time.monotonic()
    method: str
    path: str
    status: int
    range: str | None


class Proxy:
    """Forwards 127.0.0.1:<port> to the server at `upstream_port`."""

    def __init__(self, upstream_port: int, rate_bytes_s: float | None = None) -> None:
        self.upstream_port = upstream_port
        self.rate_bytes_s = rate_bytes_s
        self.media_bytes = 0
        self.corrupt: dict[str, int] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def _forward(self) -> None:
                proxy.forward(self)

            do_GET = do_POST = do_HEAD = do_PUT = do_PATCH = do_DELETE = _forward  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Proxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def requests_for(self, prefix: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path.startswith(prefix)]

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP}
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            try:
                upstream.request(handler.command, handler.path, body=body, headers=headers)
                answer = upstream.getresponse()
            except OSError:
                handler.send_error(502)
                return
            path = handler.path.split("?", 1)[0]
            with self._lock:
                self.seen.append(
                    Seen(
                        time.monotonic(),
                        handler.command,
                        path,
                        answer.status,
                        handler.headers.get("Range"),
                    )
                )
            handler.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() not in _HOP:
                    handler.send_header(key, value)
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.close_connection = True
            if handler.command == "HEAD" or answer.status in (204, 304):
                return
            self._relay(answer, handler, path)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the player went away (killed, most likely)
        finally:
            upstream.close()

    def _relay(
        self, answer: http.client.HTTPResponse, handler: BaseHTTPRequestHandler, path: str
    ) -> None:
        media = path.startswith("/media/")
        sha = path.rsplit("/", 1)[-1].split(".", 1)[0] if media else ""
        with self._lock:
            damage = media and answer.status in (200, 206) and self.corrupt.get(sha, 0) > 0
            if damage:
                self.corrupt[sha] -= 1
        started, sent = time.monotonic(), 0
        while chunk := answer.read(CHUNK):
            if damage:
                middle = len(chunk) // 2
                chunk = chunk[:middle] + bytes([chunk[middle] ^ 0xFF]) + chunk[middle + 1 :]
                damage = False
            handler.wfile.write(chunk)
            handler.wfile.flush()
            sent += len(chunk)
            if not media:
                continue
            with self._lock:
                self.media_bytes += len(chunk)
            if self.rate_bytes_s:
                # Pacing the transfer itself: this thread serves one slow download.
                ahead = sent / self.rate_bytes_s - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
