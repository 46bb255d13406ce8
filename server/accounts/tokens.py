"""Operators' API tokens: issued to oneself, listed by their owner, revoked by owner or admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.accounts.models import ApiToken, User
from server.accounts.users import get_user, require_whole_user
from server.auth import audit
from server.auth.actors import Actor, create_api_token
from server.db import MAX_ID
from server.errors import FieldError, NotFound, ValidationFailed


def issue_token(
    session: Session, actor: Actor, now: datetime, *, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token for the actor and its clear text, which is never stored or shown again."""
    if expires_at is not None and (expires_at.tzinfo is None or expires_at <= now):
        raise ValidationFailed(
            "a token must expire in the future",
            [FieldError("expires_at", "must be a future instant with a time zone")],
        )
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound("your user no longer exists")
    row, clear = create_api_token(session, user, name, now, expires_at)
    session.flush()
    audit.changed(session, actor, now, "create", row, after={"name": name, "prefix": row.prefix})
    return row, clear


def revoke_token(session: Session, actor: Actor, now: datetime, token_id: int) -> ApiToken:
    """Revoke one's own token, or one of a user the actor administers in every one of their
    memberships (as for passwords and deactivation); idempotent."""
    row = session.get(ApiToken, token_id) if 0 < token_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"no token {token_id}")
    if row.user_id != actor.user_id:
        try:
            owner = get_user(session, actor, row.user_id)
        except NotFound:
            raise NotFound(f"no token {token_id}") from None
        require_whole_user(actor, owner)
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
        audit.changed(session, actor, now, "revoke", row, before={"name": row.name})
    return row


@dataclass(frozen=True)
class TokenFilter:
    active: bool | None = None


def tokens_select(actor: Actor, filters: TokenFilter, now: datetime) -> Select[ApiToken]:
    """The actor's own tokens; `active` keeps only usable (or only unusable) ones."""
    stmt = select(ApiToken).where(ApiToken.user_id == actor.user_id)
    if filters.active is not None:
        usable = ApiToken.revoked_at.is_(None) & (
            ApiToken.expires_at.is_(None) | (ApiToken.expires_at > now)
        )
        stmt = stmt.where(usable if filters.active else ~usable)
    return stmt
