"""Pages for people: for now a landing page and health check; the operator UI grows here."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, json

from server.auth.policy import PUBLIC, declare


def init_app(app: Flask) -> None:
    bp = Blueprint("web", __name__)

    @bp.get("/")
    @declare(PUBLIC)
    def index() -> Response:
        html = (
            "<!doctype html><meta charset=utf-8><title>Signage Scheduler</title>"
            "<h1>Signage Scheduler</h1>"
            "<p>API: <a href=/api/v1/openapi.json>/api/v1/openapi.json</a></p>"
        )
        return Response(html, mimetype="text/html")

    @bp.get("/healthz")
    @declare(PUBLIC)
    def health() -> Response:
        return Response(json.dumps({"status": "ok"}), mimetype="application/json")

    app.register_blueprint(bp)
    # Flask's built-in static route gets a policy too, so every rule declares one.
    static_view = app.view_functions.get("static")
    if static_view is not None:
        declare(PUBLIC)(static_view)
