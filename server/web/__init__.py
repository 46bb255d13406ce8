"""The console's frame: base layout, navigation, static files, CSP, languages; health check.

Pages themselves live in each domain (`server/<domain>/pages.py`) and are registered by
`create_app`; this package holds what they share.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, json, redirect, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from server.auth.actors import ROLE_RANK, actor_for_user
from server.auth.policy import CSRF_FIELD, CSRF_HEADER, PUBLIC, declare
from server.web import csp, i18n, static
from server.web.i18n import signed_in_user


def init_app(app: Flask) -> None:
    bp = Blueprint("web", __name__, template_folder="templates")

    @bp.get("/")
    @declare(PUBLIC)
    def index() -> BaseResponse:
        if signed_in_user() is None:
            return redirect(url_for("accounts_pages.login"))
        return redirect(url_for("screens_pages.fleet"))

    @bp.get("/healthz")
    @declare(PUBLIC)
    def health() -> Response:
        return Response(json.dumps({"status": "ok"}), mimetype="application/json")

    app.register_blueprint(bp)
    static.init_app(app)
    csp.init_app(app)
    i18n.init_app(app)
    app.jinja_env.autoescape = True
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def frame() -> dict[str, Any]:
        user = signed_in_user()
        actor = actor_for_user(user) if user is not None else None
        best = actor.max_role() if actor else None
        rank = ROLE_RANK[best] if best is not None else -1
        return {
            "user": user,
            "memberships": sorted(user.memberships, key=lambda m: m.organisation.path)
            if user
            else [],
            "can_write": rank >= 1,
            "is_admin": rank >= 3,
            "csrf_token": session.get("csrf", ""),
            "csrf_field": CSRF_FIELD,
            "csrf_header": CSRF_HEADER,
            "scope_id": session.get("scope_org_id"),
            "htmx_url": static.VENDOR_HTMX,
        }
