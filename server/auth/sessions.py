"""Browser sessions the server can end: a row per login, the cookie holding only its random id.

A session ends at whichever comes first: logout, its absolute lifetime (`expires_at`), an
idle spell longer than the idle lifetime (the signed cookie carries when it was last used,
by the server's clock), or a password change or deactivation of its user (all of theirs).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.auth.actors import token_digest
from server.auth.models import LoginSession


def open_session(session: Session, user_id: int, now: datetime, lifetime: timedelta) -> str:
    """A new session row for the user; returns the clear id the cookie carries."""
    clear = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user_id,
            token_hash=token_digest(clear),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return clear


def active_session(session: Session, clear: object, now: datetime) -> LoginSession | None:
    """The live session a cookie names, or None (unknown, revoked or past its lifetime)."""
    if not isinstance(clear, str) or not clear or len(clear) > 100:
        return None
    row = session.query(LoginSession).filter_by(token_hash=token_digest(clear)).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def end_session(session: Session, clear: object, now: datetime) -> None:
    """Log out: the session named by the cookie ends now (idempotent)."""
    if isinstance(clear, str) and clear:
        session.execute(
            update(LoginSession)
            .where(
                LoginSession.token_hash == token_digest(clear), LoginSession.revoked_at.is_(None)
            )
            .values(revoked_at=now)
        )


def end_user_sessions(session: Session, user_id: int, now: datetime) -> None:
    """Every live session of the user ends now (password change, deactivation)."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
