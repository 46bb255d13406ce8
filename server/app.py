"""The application factory: it reads like a table of contents of the server."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Flask, Response

from server import api, clock, db, faults, storage, web
from server.api import problems
from server.api.policy import POLICY_ATTR
from server.clock import Clock
from server.config import Settings, load_settings, with_secret

SERVER_TIME_HEADER = "Signage-Server-Time"


def create_app(
    config: Settings | Mapping[str, Any] | None = None,
    *,
    clock_: Clock | None = None,
) -> Flask:
    """Build the app from settings (or overrides of the loaded settings) and an optional clock."""
    settings = with_secret(config if isinstance(config, Settings) else load_settings(config))
    app = Flask(
        __name__, instance_path=str(settings.instance_path.resolve()), instance_relative_config=True
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SIGNAGE=settings,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes + 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        JSON_SORT_KEYS=False,
    )
    logging.getLogger("server").setLevel(settings.log_level)
    faults.arm(settings.faults)

    clock.init_app(app, clock_)
    db.init_app(app, settings)
    storage.init_app(app, settings)
    problems.init_app(app)
    api.init_app(app)
    web.init_app(app)
    _stamp_server_time(app)
    return app


def settings_of(app: Flask) -> Settings:
    settings: Settings = app.config["SIGNAGE"]
    return settings


def _stamp_server_time(app: Flask) -> None:
    """Every response carries the server clock in ms, so players can estimate their offset."""

    @app.after_request
    def stamp(response: Response) -> Response:
        response.headers[SERVER_TIME_HEADER] = str(int(clock.now().timestamp() * 1000))
        return response


def undeclared_routes(app: Flask) -> list[str]:
    """Rules whose view declares no access policy (tests require this to be empty)."""
    missing = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if view is None or getattr(view, POLICY_ATTR, None) is None:
            missing.append(f"{rule.rule} ({rule.endpoint})")
    return missing
