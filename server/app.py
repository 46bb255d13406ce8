"""The application factory: it reads like a table of contents of the server."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response

from server import clock, db, faults, storage, web
from server.accounts.views import organisations, sessions, tokens, users
from server.alerts import views as alerts
from server.api import problems
from server.api.registry import API_PREFIX, api
from server.api.spec import openapi_json
from server.assets.views import records, uploads
from server.auth.policy import POLICY_ATTR, PUBLIC, declare
from server.campaigns import views as campaigns
from server.campaigns.files import views as campaign_files
from server.clock import Clock
from server.config import Settings, load_settings, with_secret
from server.delivery import media, runtime
from server.delivery import views as player
from server.migrations import schema_problem
from server.monitoring import views as monitoring
from server.playlists import views as playlists
from server.reports import views as reports
from server.screens.views import devices, groups, screens

SERVER_TIME_HEADER = "Signage-Server-Time"
log = logging.getLogger(__name__)


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
    _say_if_unmigrated(db.init_app(app, settings))
    storage.init_app(app, settings)
    problems.init_app(app)
    _register_api(app)
    monitoring.init_app(app)
    runtime.init_app(app, f"{API_PREFIX}{player.bp.url_prefix}/")
    app.register_blueprint(media.bp)
    web.init_app(app)
    _stamp_server_time(app)
    return app


def _say_if_unmigrated(database: db.Database) -> None:
    """A database that was never migrated answers every request 503: say why, once, at start."""
    try:
        problem = schema_problem(database.engine)
    except Exception as exc:  # noqa: BLE001 - down at start-up: requests answer 503 meanwhile
        log.warning("cannot check the database schema at start-up: %s", exc)
        return
    if problem is not None:
        log.error("%s", problem)


# Every REST resource, by domain; each blueprint is mounted under /api/v1.
API_BLUEPRINTS = [
    sessions.bp,
    organisations.bp,
    users.bp,
    tokens.bp,
    screens.bp,
    groups.bp,
    records.bp,
    playlists.bp,
    player.bp,
    devices.bp,
    reports.bp,
    uploads.bp,
    campaigns.bp,
    campaign_files.bp,
    alerts.bp,
]


def _register_api(app: Flask) -> None:
    root = Blueprint("api", __name__, url_prefix=API_PREFIX)
    for bp in API_BLUEPRINTS:
        root.register_blueprint(bp)

    @root.get("/openapi.json")
    @declare(PUBLIC)
    def openapi() -> Response:
        return openapi_json(api, "Signage Scheduler API", "1")

    app.register_blueprint(root)


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
