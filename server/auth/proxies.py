"""Requests that came through a trusted reverse proxy: the client's address, scheme and host
are the ones the proxy forwarded (`X-Forwarded-For`, `-Proto`, `-Host`, `-Port`); from any
other peer those headers are ignored, so nobody can claim an address or HTTPS by sending
them. The `trusted_proxies` setting lists the proxies' addresses or networks."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(trusted: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(t, strict=False) for t in trusted]


def _trusted(value: str | None, networks: list[Network]) -> bool:
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return False
    return any(address in n for n in networks)


class FromTrustedProxies:
    """WSGI middleware: behind a trusted proxy, the forwarded client becomes REMOTE_ADDR,
    and the forwarded scheme and host become the request's (so `request.is_secure` holds
    behind TLS termination and the session cookie is sent Secure)."""

    def __init__(self, app: Any, trusted: Iterable[str]) -> None:
        self.app = app
        self.networks = _networks(trusted)
        # One hop: the trusted proxy in front appends its peer to X-Forwarded-For.
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if _trusted(environ.get("REMOTE_ADDR"), self.networks):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)
