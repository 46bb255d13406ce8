"""One error hierarchy for the server; `server.api.problems` turns each into problem+json.

Domain code raises these with a human `detail` and, where input is at fault, the fields
that were wrong. Each class carries the HTTP status it maps to.
"""

from __future__ import annotations

from server.media.errors import FieldError, KnownError


class SignageError(KnownError):
    """Root of every error the server raises on purpose (media's are `MediaError`s)."""


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


class ServiceUnavailable(SignageError):
    status = 503
    title = "Service Unavailable"

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TooManyRequests(SignageError):
    status = 429
    title = "Too Many Requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class ConfigError(SignageError):
    """A setting is missing or malformed; start-up stops with this message."""


__all__ = ["FieldError", "KnownError"]
