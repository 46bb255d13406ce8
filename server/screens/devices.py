"""Device tokens: minted once per pairing, stored as a SHA-256, revocable.

A player sends `Authorization: Bearer sgd_…` on every call. `DeviceLookup` turns the
token into everything a poll needs — the screen's facts, its groups with their
ancestors, and the content version — in ONE statement run straight on a pooled DB-API
connection: this is the hot path of the whole server (every screen, every poll), and
SQLAlchemy's per-statement machinery (and even a pool checkout) would cost several
times the query itself. Each thread keeps one connection of its own for it; a dead one
is dropped and the poll answered 503 + Retry-After, and the next poll reconnects.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import Engine, create_engine, event, update
from sqlalchemy.orm import Session

from server.auth.actors import DEVICE_TOKEN_PREFIX, new_token, token_digest
from server.errors import ServiceUnavailable, Unauthorized
from server.screens.models import Screen

MAX_TOKEN_LENGTH: Final = 200


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
    groups: tuple[int, ...] = ()  # its groups and all their ancestors, sorted


# Groups nest: a screen is in its groups and in every ancestor of them. The aggregate is
# the one word SQLite and PostgreSQL spell differently.
_LOOKUP: Final = """
WITH RECURSIVE closure(id) AS (
    SELECT gm.group_id FROM group_members gm
    JOIN screens sc ON sc.id = gm.screen_id
    WHERE sc.device_token_hash = {p}
    UNION
    SELECT g.parent_id FROM groups g JOIN closure c ON g.id = c.id
    WHERE g.parent_id IS NOT NULL
)
SELECT s.id, s.name, s.organisation_id, o.path, s.timezone, s.width, s.height, s.tags,
       s.command_seq,
       (SELECT max(id) FROM publications),
       (SELECT {agg} FROM closure)
FROM screens s JOIN organisations o ON o.id = s.organisation_id
WHERE s.device_token_hash = {p}
"""
_DIALECTS: Final = {
    "sqlite": ("?", "group_concat(id)"),
    "postgresql": ("%s", "string_agg(CAST(id AS TEXT), ',')"),
}


class DeviceLookup:
    """Finds the screen of a device token (and the content version) in one read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        placeholder, aggregate = _DIALECTS.get(engine.dialect.name, _DIALECTS["postgresql"])
        self._sql = _LOOKUP.format(p=placeholder, agg=aggregate)
        self._local = threading.local()
        self._all: list[Any] = []
        # token hash -> screen id, as last found; one small entry per screen polling here.
        self._known: dict[str, int] = {}
        if engine.dialect.name != "sqlite":
            # Autocommit, so the one statement needs no BEGIN, COMMIT or ROLLBACK round trip.
            # (SQLite's connections are in autocommit already: see server.db.)
            self.engine = create_engine(engine.url, isolation_level="AUTOCOMMIT")
        event.listen(engine, "engine_disposed", lambda _e: self.close())

    def find(self, token_hash: str) -> tuple[DeviceScreen, int] | None:
        """The screen and the current content version, or None for an unknown hash."""
        try:
            raw = self._connection()
        except Exception as exc:  # the driver's own error: a raw connection is not wrapped
            raise ServiceUnavailable("the database cannot be reached; retry") from exc
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(self._sql, (token_hash, token_hash))
                row = cursor.fetchone()
            finally:
                cursor.close()
        except Exception as exc:
            self._local.__dict__.pop("raw", None)
            raw.close()
            if self.engine.dialect.is_disconnect(cast(Any, exc), raw, None):
                raise ServiceUnavailable("the database connection was lost; retry") from exc
            raise
        if row is None:
            self._known.pop(token_hash, None)
            return None
        device = _device(row)
        self._known[token_hash] = device.id
        return device, int(row[9] or 0)

    def last_known(self, token_hash: str) -> int | None:
        """The screen this process last found for the hash (None if none): what a poll can
        still be credited to while the database is away."""
        return self._known.get(token_hash)

    def _connection(self) -> Any:
        """This thread's own DB-API connection (made by the engine, so with its pragmas),
        kept out of the pool: checking one out and back in costs more than the query."""
        raw = getattr(self._local, "raw", None)
        if raw is None:
            pooled = self.engine.raw_connection()
            pooled.detach()
            raw = self._local.raw = pooled.dbapi_connection
            self._all.append(raw)
        return raw

    def close(self) -> None:
        """Close every thread's connection (the engine's dispose does this too)."""
        while self._all:
            try:
                self._all.pop().close()
            except Exception:  # noqa: S110 - closing a dead connection is best effort
                pass
        self._local = threading.local()


def _device(row: Any) -> DeviceScreen:
    tags = row[7]
    if tags == "[]":
        tags = ()
    elif isinstance(tags, str | bytes):
        tags = json.loads(tags)
    groups = row[10]
    return DeviceScreen(
        id=int(row[0]),
        name=row[1],
        organisation_id=int(row[2]),
        org_path=row[3],
        timezone=row[4],
        width=int(row[5]),
        height=int(row[6]),
        tags=tuple(sorted(str(t) for t in tags or ())),
        command_seq=int(row[8]),
        groups=tuple(sorted({int(g) for g in str(groups).split(",") if g})) if groups else (),
    )


def authenticate_device(lookup: DeviceLookup, token: str | None) -> tuple[DeviceScreen, int]:
    """The screen holding `token` and the content version; Unauthorized when the token is
    missing, unknown or revoked."""
    if not token or not token.startswith(DEVICE_TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("send the device token as a bearer token")
    found = lookup.find(token_digest(token))
    if found is None:
        raise Unauthorized("unknown or revoked device token; pair again")
    return found


def mint_device_token(screen: Screen, now: datetime) -> str:
    """Give `screen` a new device token (any older one stops working); return the clear text."""
    token = new_token(DEVICE_TOKEN_PREFIX)
    screen.device_token_hash = token_digest(token)
    screen.token_issued_at = now
    return token


def revoke_device_token(session: Session, screen_id: int) -> bool:
    """Forget the screen's token; its player gets 401 and pairs again. True if it had one."""
    result = session.execute(
        update(Screen)
        .where(Screen.id == screen_id, Screen.device_token_hash.is_not(None))
        .values(device_token_hash=None, token_issued_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
