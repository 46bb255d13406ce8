"""The console's Content-Security-Policy, in one place: no inline script or style, nothing
from another origin. Every HTML response carries it; API answers get a deny-all one."""

from __future__ import annotations

from typing import Final

from flask import Flask, Response

CSP_HEADER: Final = "Content-Security-Policy"

# Thumbnails and screenshots are same-origin URLs; the slogan preview too. `blob:` lets the
# upload list show a local preview of a file before it is sent.
PAGE_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
OTHER_POLICY: Final = "default-src 'none'; frame-ancestors 'none'"


def policy_for(mimetype: str) -> str:
    return PAGE_POLICY if mimetype == "text/html" else OTHER_POLICY


def init_app(app: Flask) -> None:
    @app.after_request
    def stamp(response: Response) -> Response:
        response.headers.setdefault(CSP_HEADER, policy_for(response.mimetype or ""))
        return response
