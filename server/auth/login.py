"""Logging in with a password: throttled per account and per source address, audited on
failure, and as much work for an unknown email as for a known one.

The throttle's state is a small table (`login_throttles`), so every node behind a load
balancer counts the same failures. A key ("account:<email>", "address:<ip>") gets a few free
failures within a window; each failure past those blocks it for twice as long as the last
(1 s, 2 s, 4 s … at most 15 minutes), answered 429 with Retry-After, right password or not.
"""

from __future__ import annotations

import functools
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.auth import audit
from server.auth.actors import check_password, hash_password
from server.auth.models import LoginThrottle
from server.errors import TooManyRequests

FREE_FAILURES: Final = {"account": 5, "address": 20}
WINDOW: Final = timedelta(minutes=15)
MAX_BLOCK: Final = timedelta(minutes=15)


@functools.cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, made like real ones: unknown emails cost the same."""
    return hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Attempt:
    """Who tried: the audit log's stand-in for an actor that is not logged in."""

    email: str
    address: str

    @property
    def user_id(self) -> int | None:
        return None

    @property
    def label(self) -> str:
        return self.email[:320]


def throttle_keys(email: str, address: str) -> dict[str, str]:
    return {"account": f"account:{email[:380]}", "address": f"address:{address[:380]}"}


def retry_after(session: Session, keys: dict[str, str], now: datetime) -> int | None:
    """Seconds until every key may try again, or None when none is blocked."""
    until = [
        u
        for u in session.scalars(
            select(LoginThrottle.blocked_until).where(
                LoginThrottle.key.in_(list(keys.values())), LoginThrottle.blocked_until > now
            )
        )
        if u is not None
    ]
    if not until:
        return None
    return max(1, math.ceil((max(until) - now).total_seconds()))


def _count_failure(session: Session, key: str, free: int, now: datetime) -> None:
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LoginThrottle)
    session.execute(
        insert.values(key=key, failures=0, first_failure_at=now).on_conflict_do_nothing(
            index_elements=["key"]
        )
    )
    # The increment is one statement (and on PostgreSQL locks the row until commit), so
    # nodes counting at the same moment never lose a failure.
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(failures=LoginThrottle.failures + 1)
    )
    row = session.get(LoginThrottle, key, populate_existing=True)
    assert row is not None
    if row.first_failure_at + WINDOW < now and not (row.blocked_until and row.blocked_until > now):
        row.failures, row.first_failure_at, row.blocked_until = 1, now, None
    if row.failures >= free:
        row.blocked_until = now + min(timedelta(seconds=2 ** (row.failures - free)), MAX_BLOCK)


def authenticate(
    session: Session, email: str, password: str, address: str, now: datetime
) -> User | None:
    """The user whose email and password these are, or None (a failure, counted and audited
    in `session`; the caller commits). Raises TooManyRequests while a key is blocked."""
    email = email.strip().lower()
    keys = throttle_keys(email, address)
    wait = retry_after(session, keys, now)
    if wait is not None:
        raise TooManyRequests(f"too many failed logins; try again in {wait} s", retry_after=wait)
    user = session.scalar(select(User).where(User.email == email))
    matches = check_password(user.password_hash if user else _dummy_hash(), password)
    if user is not None and user.active and matches:
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == keys["account"]))
        return user
    for kind, key in keys.items():
        _count_failure(session, key, FREE_FAILURES[kind], now)
    reason = "unknown email" if user is None else "inactive user" if matches else "wrong password"
    org_id = min((m.organisation_id for m in user.memberships), default=None) if user else None
    audit.record(
        session,
        Attempt(email, address),
        now,
        "login_failed",
        "user",
        user.id if user else "unknown",
        org_id,
        after={"email": email[:320], "address": address, "reason": reason},
    )
    return None
