"""One error hierarchy for the server; `server.api.problems` turns each into problem+json.

Domain code raises these with a human `detail` and, where input is at fault, the fields
that were wrong. Each class carries the HTTP status it maps to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One offending input field: a dotted path (`items[2].duration`) and why."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class SignageError(Exception):
    """Root of every error the server raises on purpose."""

    status: int = 500
    title: str = "Internal Server Error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = list(errors or [])


class ValidationFailed(SignageError, ValueError):
    status = 422
    title = "Unprocessable Content"


class BadRequest(SignageError, ValueError):
    status = 400
    title = "Bad Request"


class Unauthorized(SignageError, PermissionError):
    status = 401
    title = "Unauthorized"


class Forbidden(SignageError, PermissionError):
    status = 403
    title = "Forbidden"


class NotFound(SignageError, LookupError):
    status = 404
    title = "Not Found"


class Conflict(SignageError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(SignageError, ValueError):
    status = 413
    title = "Content Too Large"


class UnsupportedMedia(SignageError, ValueError):
    """The bytes are not a kind of media the product accepts (or are hostile)."""

    status = 415
    title = "Unsupported Media Type"


class MediaRejected(SignageError, ValueError):
    """The bytes claim an accepted kind but cannot be used (truncated, bomb, too large)."""

    status = 422
    title = "Unprocessable Content"


class InsufficientStorage(SignageError):
    """The disk (or quota) that bytes were going to is full; nothing was stored."""

    status = 507
    title = "Insufficient Storage"


class ServiceUnavailable(SignageError):
    status = 503
    title = "Service Unavailable"

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ConfigError(SignageError):
    """A setting is missing or malformed; start-up stops with this message."""
