"""Every error leaves the server as `application/problem+json` (RFC 9457)."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from flask import Flask, Response, json
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from server.db import is_busy
from server.errors import FieldError, KnownError, ValidationFailed

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
BUSY_RETRY_S = 5  # a busy database is asked again after 1-5 s, spread so retries do not bunch
DOWN_RETRY_S = 5


def problem(
    status: int,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [e.as_dict() for e in errors]
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """pydantic's errors as `field: reason` pairs with dotted/indexed paths."""
    out = []
    for err in exc.errors(include_url=False):
        path = prefix
        for part in err["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            else:
                path += f".{part}" if path else str(part)
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown field"
        elif err["type"] == "missing":
            reason = "required"
        out.append(FieldError(path or "body", reason))
    return out


def validation_failed(exc: ValidationError, where: str) -> ValidationFailed:
    errors = field_errors(exc)
    listed = "; ".join(f"{e.field}: {e.reason}" for e in errors[:5])
    return ValidationFailed(f"invalid {where}: {listed}", errors)


def init_app(app: Flask) -> None:
    @app.errorhandler(KnownError)
    def _known(exc: KnownError) -> Response:
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return problem(exc.status, exc.title, exc.detail, exc.errors, headers)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        headers = {}
        if status == 405 and exc.get_response().headers.get("Allow"):
            headers["Allow"] = exc.get_response().headers["Allow"]
        return problem(status, exc.name, exc.description or exc.name, headers=headers)

    @app.errorhandler(OperationalError)
    def _database_error(exc: OperationalError) -> Response:
        if is_busy(exc):
            # Writers waited the whole busy timeout for their turn: contention, not an outage.
            log.warning("database busy: %s", exc.orig)
            wait = 1 + secrets.randbelow(BUSY_RETRY_S)
            detail = "the database is busy; try again shortly"
        else:
            log.warning("database unavailable: %s", exc.orig)
            wait, detail = DOWN_RETRY_S, "the database is unavailable"
        return problem(503, "Service Unavailable", detail, headers={"Retry-After": str(wait)})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "an unexpected error; it has been logged")
