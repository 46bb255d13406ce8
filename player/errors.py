"""One error hierarchy for the player; the standard library's network errors become these in
`client.py`."""

from __future__ import annotations


class PlayerError(Exception):
    """Root of every error the player raises on purpose."""


class ConfigError(PlayerError, ValueError):
    """A bad command-line option or environment variable."""


class ServerUnreachable(PlayerError, ConnectionError):
    """No answer from the server: DNS, refused connection, timeout, broken transfer."""


class ServerRefused(PlayerError):
    """The server answered with an error status."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        retry_after: float | None = None,
        errors: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(f"server answered {status}" + (f": {detail}" if detail else ""))
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self.errors = errors or []


class Unauthorized(ServerRefused):
    """401: the device token is unknown or revoked; the player must pair again."""


class EnrolmentRefused(ServerRefused):
    """403 on hello: the enrolment token is unknown, expired or used up."""


class NotFound(ServerRefused, LookupError):
    """404: e.g. an asset that is in no published campaign."""


class ProtocolError(PlayerError, ValueError):
    """A response that does not follow docs/player-protocol.md."""


class ManifestInvalid(ProtocolError):
    """A manifest body that fails validation; `field` names the offending path."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"manifest {field}: {reason}")
        self.field = field
        self.reason = reason


class IntegrityError(PlayerError):
    """Downloaded bytes whose SHA-256 (or size) is not the one asked for."""


class CacheFull(PlayerError):
    """An asset does not fit: quota reached with only protected assets left, or disk full."""

    def __init__(self, shortage_bytes: int, detail: str, *, disk: bool = False) -> None:
        super().__init__(detail)
        self.shortage_bytes = shortage_bytes
        self.disk = disk  # the file system is full (else: the quota is reached)


class AssetUndecodable(PlayerError):
    """A cached asset the display cannot render (corrupt, unsupported type, too large)."""
