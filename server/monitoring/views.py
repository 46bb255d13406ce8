"""`GET /metrics`: Prometheus' text format, for a token holder or a direct local caller.

Not under /api/v1 and not an operator route: a scraper has no user. Who may read it is a
setting (`metrics_token`, `metrics_allow`); a request that came through a proxy (it carries
a forwarding header) must bring the token, so nginx in front never opens it to the world.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from typing import Final

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from server.auth.policy import PUBLIC, bearer_token, declare
from server.clock import get_clock
from server.config import Settings
from server.db import get_db
from server.errors import Forbidden
from server.monitoring.collectors import DatabaseCollector
from server.monitoring.metrics import Metrics

EXTENSION_KEY: Final = "signage.metrics"
MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"
FORWARDED: Final = ("X-Forwarded-For", "Forwarded", "X-Real-IP")

bp = Blueprint("monitoring", __name__)


def init_app(app: Flask) -> Metrics:
    """This process's instruments, and the /metrics route."""
    metrics = Metrics()
    app.extensions[EXTENSION_KEY] = metrics
    app.register_blueprint(bp)
    return metrics


def get_metrics(app: Flask | None = None) -> Metrics:
    metrics: Metrics = (app or current_app).extensions[EXTENSION_KEY]
    return metrics


def may_scrape(settings: Settings, token: str | None, remote: str | None, proxied: bool) -> bool:
    """The token, when one is set; else a direct caller from an allowed network."""
    if settings.metrics_token and token is not None:
        return hmac.compare_digest(settings.metrics_token.encode(), token.encode())
    if proxied or not remote:
        return False
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in settings.metrics_allow)


@bp.get("/metrics")
@declare(PUBLIC)  # who may read it is checked below, by token or address (a setting)
def metrics() -> Response:
    settings: Settings = current_app.config["SIGNAGE"]
    proxied = any(h in request.headers for h in FORWARDED)
    if not may_scrape(settings, bearer_token(), request.remote_addr, proxied):
        raise Forbidden(
            "metrics need the metrics token, or a direct call from an allowed address"
        )
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = get_metrics().registry
    body = generate_latest(registry)
    body += generate_latest(_only(DatabaseCollector(get_db().engine, settings, get_clock().now)))
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


def _only(collector: Collector) -> CollectorRegistry:
    """A registry holding just `collector`, made per scrape (it reads the database)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry
