"""HTTP/1.1 on the standard library: a kept-alive connection per thread and origin, separate
connect and read timeouts, redirects, proxies from the environment, gzip for documents.

`requests` would do all this, and more the player never uses, for 9 MB of resident memory
(urllib3, charset detection, IDNA tables) out of the 60 MB a screen player is allowed.
Errors are the standard library's own (`OSError`, `http.client.HTTPException`); the
caller turns them into the player's.
"""

from __future__ import annotations

import base64
import http.client
import os
import select
import ssl
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

REDIRECTS = {301, 302, 303, 307, 308}
MAX_REDIRECTS = 5
_DRAIN_LIMIT = 64 * 1024  # a redirect's or an error's body worth reading to keep the line


class TooManyRedirects(http.client.HTTPException):
    pass


class BodyTooLarge(http.client.HTTPException):
    pass


@dataclass(frozen=True)
class Origin:
    """Where a connection goes: the server itself, or a proxy on the way to it."""

    scheme: str
    host: str
    port: int
    proxy: str | None = None


def proxy_for(scheme: str, host: str, environ: Mapping[str, str]) -> str | None:
    """The proxy URL the environment sets for `scheme` (`https_proxy`…), unless `no_proxy`
    names the host (or one of its parent domains, or `*`), or the host is this machine."""
    if host in ("localhost", "::1") or host.startswith("127."):
        return None  # no proxy elsewhere can reach our own loopback
    no_proxy = environ.get("no_proxy", environ.get("NO_PROXY", ""))
    for entry in (e.strip().lower().lstrip(".") for e in no_proxy.split(",")):
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return None
    value = environ.get(f"{scheme}_proxy") or environ.get(f"{scheme.upper()}_PROXY")
    return value or None


def _port(parts: object, scheme: str) -> int:
    port = getattr(parts, "port", None)
    return int(port) if port else (443 if scheme == "https" else 80)


@dataclass
class Response:
    """An answer whose body is still on the wire: `read()` it or iterate it, then `close()`."""

    status: int
    headers: http.client.HTTPMessage
    url: str
    _raw: http.client.HTTPResponse
    _done: Callable[[bool], None] = field(repr=False)  # hands the connection back (or not)

    def read(self, limit: int) -> bytes:
        """The whole body (gunzipped if it came compressed), at most `limit` bytes of it."""
        data = self._raw.read(limit + 1)
        if len(data) > limit:
            self.close()
            raise BodyTooLarge(f"{self.url}: body larger than {limit} bytes")
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = inflater.decompress(data, limit + 1)
            if len(data) > limit or inflater.unconsumed_tail:
                self.close()
                raise BodyTooLarge(f"{self.url}: body larger than {limit} bytes")
        self.close()
        return data

    def chunks(self, size: int) -> Iterator[bytes]:
        """The body as it arrives (never decompressed: media are asked for as they are)."""
        try:
            while chunk := self._raw.read(size):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """Done with the answer: the connection is kept if its body was read to the end."""
        if not self._raw.isclosed() and self._raw.length == 0:
            self._raw.read()  # an empty body (304, 204): nothing left on the line
        keep = self._raw.isclosed() and not self._raw.will_close
        if not self._raw.isclosed():
            self._raw.close()
        self._done(keep)


class Transport:
    """Sends requests; safe to share between threads (each has its own connections)."""

    def __init__(
        self,
        *,
        user_agent: str,
        connect_timeout: float,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.connect_timeout = connect_timeout
        self._environ = os.environ if environ is None else environ
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: set[http.client.HTTPConnection] = set()
        self._tls: ssl.SSLContext | None = None

    # -- connections ------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()  # the system's CAs, SSL_CERT_FILE honoured
        return self._tls

    def _pool(self) -> dict[Origin, http.client.HTTPConnection]:
        pool: dict[Origin, http.client.HTTPConnection] | None = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        return pool

    def _open(self, origin: Origin) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        if origin.proxy is None:
            target_host, target_port = origin.host, origin.port
        else:
            proxy = urlsplit(origin.proxy)
            target_host, target_port = proxy.hostname or "", _port(proxy, proxy.scheme or "http")
        if origin.scheme == "https" and origin.proxy is None:
            conn = http.client.HTTPSConnection(
                target_host, target_port, timeout=self.connect_timeout, context=self._tls_context()
            )
        elif origin.scheme == "https":  # through the proxy's CONNECT tunnel
            conn = http.client.HTTPSConnection(
                target_host, target_port, timeout=self.connect_timeout, context=self._tls_context()
            )
            conn.set_tunnel(origin.host, origin.port, headers=self._proxy_auth(origin.proxy))
        else:
            conn = http.client.HTTPConnection(
                target_host, target_port, timeout=self.connect_timeout
            )
        conn.connect()
        with self._lock:
            self._all.add(conn)
        return conn

    @staticmethod
    def _proxy_auth(proxy: str | None) -> dict[str, str]:
        parts = urlsplit(proxy or "")
        if not parts.username:
            return {}
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        return {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    def _drop(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        pool = self._pool()
        if pool.get(origin) is conn:
            del pool[origin]
        conn.close()
        with self._lock:
            self._all.discard(conn)

    @staticmethod
    def _idle_and_open(conn: http.client.HTTPConnection) -> bool:
        """A kept connection the server has not closed meanwhile (nothing to read on it)."""
        sock = conn.sock
        if sock is None:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, set()
        for conn in conns:
            conn.close()

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        read_timeout: float,
        compressed: bool = True,
    ) -> Response:
        """Send one request (following redirects); the answer with its body unread."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self._once(method, url, headers or {}, body, read_timeout, compressed)
            location = response.headers.get("Location")
            if response.status not in REDIRECTS or not location:
                return response
            try:
                response.read(_DRAIN_LIMIT)  # to the end, so the connection can be kept
            except BodyTooLarge:
                pass
            url = urljoin(url, location)
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = "GET", None
        raise TooManyRedirects(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        read_timeout: float,
        compressed: bool,
    ) -> Response:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise http.client.InvalidURL(f"not an http(s) URL: {url!r}")
        proxy = proxy_for(scheme, parts.hostname.lower(), self._environ)
        origin = Origin(scheme, parts.hostname, _port(parts, scheme), proxy)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        all_headers = {
            "User-Agent": self.user_agent,
            "Accept-Encoding": "gzip" if compressed else "identity",
            **headers,
        }
        if proxy is not None and scheme == "http":
            target = url.split("#", 1)[0]  # a plain-HTTP proxy takes the whole URL
            all_headers.update(self._proxy_auth(proxy))
        pool = self._pool()
        kept = pool.get(origin)
        if kept is not None and not self._idle_and_open(kept):
            self._drop(origin, kept)
            kept = None
        try:
            conn, raw = self._exchange(
                origin, kept, method, target, body, all_headers, read_timeout
            )
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if kept is None:
                raise
            # The server closed the kept connection as we used it: once more, on a new one.
            conn, raw = self._exchange(
                origin, None, method, target, body, all_headers, read_timeout
            )

        def done(keep: bool) -> None:
            if not keep:
                self._drop(origin, conn)

        return Response(raw.status, raw.headers, url, raw, done)

    def _exchange(
        self,
        origin: Origin,
        conn: http.client.HTTPConnection | None,
        method: str,
        target: str,
        body: bytes | None,
        headers: Mapping[str, str],
        read_timeout: float,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send on `conn` (a new connection if None) and read the answer's head."""
        if conn is None:
            conn = self._pool()[origin] = self._open(origin)
        try:
            assert conn.sock is not None
            conn.sock.settimeout(read_timeout)
            conn.request(method, target, body=body, headers=dict(headers))
            return conn, conn.getresponse()
        except BaseException:
            self._drop(origin, conn)
            raise
