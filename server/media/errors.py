"""Errors of the pure media package. It imports nothing of the rest of the server, so it has
its own small hierarchy; `server.errors` re-uses `FieldError` from here, and the server's
problem+json handler and command line treat a `MediaError` like any of their own errors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One offending input field: a dotted path (`items[2].duration`) and why."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class MediaError(Exception):
    """Root of every error the media package raises on purpose; each has its HTTP status."""

    status: int = 500
    title: str = "Internal Server Error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = list(errors or [])


class InvalidMediaRequest(MediaError, ValueError):
    """A parameter of a media operation is wrong: a profile, a fit, a style, a text."""

    status = 422
    title = "Unprocessable Content"


class MediaTooLarge(MediaError, ValueError):
    status = 413
    title = "Content Too Large"


class UnsupportedMedia(MediaError, ValueError):
    """The bytes are not a kind of media the product accepts (or are hostile)."""

    status = 415
    title = "Unsupported Media Type"


class MediaRejected(MediaError, ValueError):
    """The bytes claim an accepted kind but cannot be used (truncated, bomb, too large)."""

    status = 422
    title = "Unprocessable Content"


class StorageFull(MediaError):
    """The disk (or quota) that bytes were going to is full; nothing was stored."""

    status = 507
    title = "Insufficient Storage"


class MediaNotFound(MediaError, LookupError):
    status = 404
    title = "Not Found"


class MediaUnavailable(MediaError):
    """A collaborator of the media code (fontconfig) failed for now."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class MediaSetupError(MediaError):
    """The machine lacks something media needs (fontconfig); the operator must install it."""
