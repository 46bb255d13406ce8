"""REST API under /api/v1: operator resources, the player protocol, and the OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, Flask, Response

from server.api import (
    assets,
    campaigns,
    fleet,
    groups,
    organisations,
    player,
    playlists,
    reports,
    screens,
    sessions,
    tokens,
    uploads,
    users,
)
from server.api.policy import PUBLIC, declare
from server.api.registry import API_PREFIX, api
from server.api.spec import openapi_json

BLUEPRINTS = [
    sessions.bp,
    organisations.bp,
    users.bp,
    tokens.bp,
    screens.bp,
    groups.bp,
    assets.bp,
    playlists.bp,
    player.bp,
    fleet.bp,
    reports.bp,
    uploads.bp,
    campaigns.bp,
]


def init_app(app: Flask) -> None:
    root = Blueprint("api", __name__, url_prefix=API_PREFIX)
    for bp in BLUEPRINTS:
        root.register_blueprint(bp)

    @root.get("/openapi.json")
    @declare(PUBLIC)
    def openapi() -> Response:
        return openapi_json(api, "Signage Scheduler API", "1")

    app.register_blueprint(root)
