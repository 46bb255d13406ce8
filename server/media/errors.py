"""Errors of the pure media package, which imports nothing of the rest of the server. Their
base, `KnownError`, is also the base of `server.errors.SignageError`: the problem+json
handler and the command line treat every `KnownError` alike."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One offending input field: a dotted path (`items[2].duration`) and why."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class KnownError(Exception):
    """An error raised on purpose: a human `detail`, the fields at fault, an HTTP status.

    The root of the server's errors too (`server.errors.SignageError`): it lives here, in the
    lowest package, because media imports nothing of the rest of the server.
    """

    status: int = 500
    title: str = "Internal Server Error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors: list[FieldError] = list(errors or [])


class MediaError(KnownError):
    """Root of every error the media package raises on purpose."""


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


class StoreUnavailable(MediaUnavailable):
    """The remote media store could not be reached or failed (server.storage answers 503
    with a detail that names no internal address)."""


class StoreMisconfigured(StoreUnavailable):
    """The store answered, but says the bucket is missing or not ours to use."""


class ChecksumMismatch(MediaUnavailable):
    """Bytes did not match their content hash (or the store's checksum) on the way in;
    nothing was stored, and the same upload may be tried again."""
