"""Every response carries the security headers: routes of every kind, errors included."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

WANTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _check(response: Any, what: str) -> None:
    for name, value in WANTED.items():
        assert response.headers.get(name) == value, (what, name, dict(response.headers))
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, (what, policy)


def _url(rule: str) -> str:
    return re.sub(
        r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
        lambda m: "1" if m.group(1) == "int" else "a" * 64,
        rule,
    )


def test_every_route_answers_with_the_security_headers(
    app: Flask, client: FlaskClient, world: Any
) -> None:
    seen = 0
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            url = _url(rule.rule)
            for headers in ({}, world["admin"].headers):
                r = client.open(url, method=method, headers=headers, json={})
                _check(r, f"{method} {url} -> {r.status_code}")
                seen += 1
    assert seen > 100
    _check(client.get("/no/such/page"), "404")
    _check(client.post("/api/v1/session", data=b"x" * 70_000), "413")
