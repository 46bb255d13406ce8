"""The application factory: it reads like a table of contents of the server."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

from server import clock, db, faults, storage, web
from server.accounts import pages as account_pages
from server.accounts.views import organisations, sessions, tokens, users
from server.alerts import views as alerts
from server.api import problems
from server.api.registry import API_PREFIX, api
from server.api.spec import MAX_JSON_BYTES, openapi_json
from server.assets import pages as asset_pages
from server.assets.views import records, uploads
from server.audit import pages as audit_pages
from server.auth.policy import POLICY_ATTR, PUBLIC, declare
from server.auth.proxies import FromTrustedProxies
from server.campaigns import views as campaigns
from server.campaigns.files import views as campaign_files
from server.campaigns.pages import calendars as calendar_pages
from server.campaigns.pages import campaigns as campaign_pages
from server.campaigns.pages import desk as desk_pages
from server.campaigns.pages import preview as preview_pages
from server.clock import Clock
from server.config import Settings, load_settings, with_secret
from server.delivery import media, runtime
from server.delivery import views as player
from server.migrations import schema_problem
from server.monitoring import views as monitoring
from server.playlists import views as playlists
from server.reports import pages as report_pages
from server.reports import views as reports
from server.screens import pages as screen_pages
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
        __name__,
        instance_path=str(settings.instance_path.resolve()),
        instance_relative_config=True,
        static_folder=None,  # the console serves its own, under hashed names (server.web)
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SIGNAGE=settings,
        # Routes that take more (uploads) say so in their declaration (server.api.spec).
        MAX_CONTENT_LENGTH=MAX_JSON_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_lifetime_hours),
        JSON_SORT_KEYS=False,
    )
    logging.getLogger("server").setLevel(settings.log_level)
    faults.arm(settings.faults)
    app.session_interface = _SessionCookies()
    if settings.trusted_proxies:
        app.wsgi_app = FromTrustedProxies(  # type: ignore[method-assign]
            app.wsgi_app, settings.trusted_proxies
        )

    clock.init_app(app, clock_)
    _say_if_unmigrated(db.init_app(app, settings))
    storage.init_app(app, settings)
    problems.init_app(app)
    _register_api(app)
    monitoring.init_app(app)
    runtime.init_app(app, f"{API_PREFIX}{player.bp.url_prefix}/")
    app.register_blueprint(media.bp)
    web.init_app(app)
    for pages in CONSOLE_BLUEPRINTS:
        app.register_blueprint(pages)
    _stamp_server_time(app)
    _security_headers(app)
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

# The console's pages, by domain (the frame they share is server.web).
CONSOLE_BLUEPRINTS = [
    account_pages.bp,
    screen_pages.bp,
    asset_pages.bp,
    campaign_pages.bp,
    desk_pages.bp,
    calendar_pages.bp,
    preview_pages.bp,
    report_pages.bp,
    audit_pages.bp,
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


class _SessionCookies(SecureCookieSessionInterface):
    """The session cookie is Secure when the setting says so, and on every HTTPS request
    (behind a proxy: per X-Forwarded-Proto, trusted through `trusted_proxies`)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )


def settings_of(app: Flask) -> Settings:
    settings: Settings = app.config["SIGNAGE"]
    return settings


def _stamp_server_time(app: Flask) -> None:
    """Every response carries the server clock in ms, so players can estimate their offset."""

    @app.after_request
    def stamp(response: Response) -> Response:
        response.headers[SERVER_TIME_HEADER] = str(int(clock.now().timestamp() * 1000))
        return response


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _security_headers(app: Flask) -> None:
    """Every response: no MIME sniffing, no referrer, never inside another site's frame
    (the Content-Security-Policy, `frame-ancestors 'none'` included, is server.web.csp's)."""

    @app.after_request
    def protect(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def undeclared_routes(app: Flask) -> list[str]:
    """Rules whose view declares no access policy (tests require this to be empty)."""
    missing = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if view is None or getattr(view, POLICY_ATTR, None) is None:
            missing.append(f"{rule.rule} ({rule.endpoint})")
    return missing
