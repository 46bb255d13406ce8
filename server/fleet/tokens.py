"""Device tokens: minted once per pairing, stored as a SHA-256, revocable.

A player sends `Authorization: Bearer sgd_…` on every call; `authenticate_device` turns it
into the few facts of its screen that a poll needs, in one indexed query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.auth import DEVICE_TOKEN_PREFIX, new_token, token_digest
from server.errors import Unauthorized
from server.models import Organisation, Screen


@dataclass(frozen=True, slots=True)
class DeviceScreen:
    """The screen behind a device token, as a poll sees it."""

    id: int
    name: str
    organisation_id: int
    org_path: str
    timezone: str
    width: int
    height: int
    tags: tuple[str, ...]
    command_seq: int


_DEVICE_COLUMNS = (
    Screen.id,
    Screen.name,
    Screen.organisation_id,
    Organisation.path,
    Screen.timezone,
    Screen.width,
    Screen.height,
    Screen.tags,
    Screen.command_seq,
)


def mint_device_token(screen: Screen, now: datetime) -> str:
    """Give `screen` a new device token (any older one stops working); return the clear text."""
    token = new_token(DEVICE_TOKEN_PREFIX)
    screen.device_token_hash = token_digest(token)
    screen.token_issued_at = now
    return token


def authenticate_device(session: Session, token: str | None) -> DeviceScreen:
    """The screen holding `token`; Unauthorized when it is missing, unknown or revoked."""
    if not token or not token.startswith(DEVICE_TOKEN_PREFIX) or len(token) > 200:
        raise Unauthorized("send the device token as a bearer token")
    row = session.execute(
        select(*_DEVICE_COLUMNS)
        .join(Organisation, Organisation.id == Screen.organisation_id)
        .where(Screen.device_token_hash == token_digest(token))
    ).one_or_none()
    if row is None:
        raise Unauthorized("unknown or revoked device token; pair again")
    return DeviceScreen(
        id=row[0],
        name=row[1],
        organisation_id=row[2],
        org_path=row[3],
        timezone=row[4],
        width=row[5],
        height=row[6],
        tags=tuple(sorted(str(t) for t in (row[7] or ()))),
        command_seq=row[8],
    )


def revoke_device_token(session: Session, screen_id: int) -> bool:
    """Forget the screen's token; its player gets 401 and pairs again. True if it had one."""
    result = session.execute(
        update(Screen)
        .where(Screen.id == screen_id, Screen.device_token_hash.is_not(None))
        .values(device_token_hash=None, token_issued_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
