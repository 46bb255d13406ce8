"""Static files under content-hashed names (`console.3f2a9c1b.css`), cached for good.

The hash is of the bytes, computed once at start-up: a changed file gets a new URL, so a
browser never runs an old script against a new page.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Final

from flask import Blueprint, Flask, Response, abort, send_file

from server.auth.policy import PUBLIC, declare

STATIC_DIR: Final = Path(__file__).parent / "static"
HASH_CHARS: Final = 10
IMMUTABLE: Final = "public, max-age=31536000, immutable"
VENDOR_HTMX: Final = "vendor/htmx-2.0.11.min.js"
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{10})(?P<suffix>\.[a-z0-9]+)$")


class StaticFiles:
    """The console's static files: logical name ▸ hashed name ▸ file."""

    def __init__(self, root: Path = STATIC_DIR) -> None:
        self.root = root
        self.by_logical: dict[str, str] = {}
        self.by_hashed: dict[str, Path] = {}
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix not in {".css", ".js", ".svg", ".png"}:
                continue
            logical = path.relative_to(root).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_CHARS]
            hashed = f"{logical[: -len(path.suffix)]}.{digest}{path.suffix}"
            self.by_logical[logical] = hashed
            self.by_hashed[hashed] = path

    def url(self, logical: str) -> str:
        return "/static/" + self.by_logical[logical]

    def path(self, hashed: str) -> Path | None:
        return self.by_hashed.get(hashed) if _HASHED.match(hashed.rsplit("/", 1)[-1]) else None


def init_app(app: Flask) -> StaticFiles:
    files = StaticFiles()
    bp = Blueprint("static_files", __name__)

    @bp.get("/static/<path:name>")
    @declare(PUBLIC)
    def static_file(name: str) -> Response:
        path = files.path(name)
        if path is None:
            abort(404)
        response = send_file(path, max_age=31536000, conditional=True)
        response.headers["Cache-Control"] = IMMUTABLE
        return response

    app.register_blueprint(bp)
    app.jinja_env.globals["static_url"] = files.url
    return files
