"""Every route declares who may call it; `enforce` runs before the view.

A route without a declared policy is a bug: tests walk the URL map and fail on one.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from flask import current_app, g, request, session
from sqlalchemy.orm import Session

from server import clock
from server.accounts.models import Role, User
from server.auth import sessions as login_sessions
from server.auth.actors import (
    API_TOKEN_PREFIX,
    DEVICE_TOKEN_PREFIX,
    ROLE_RANK,
    Actor,
    actor_for_user,
    authenticate_api_token,
)
from server.auth.limits import source_address
from server.auth.login import authenticate
from server.db import SAFE_METHODS, get_session
from server.errors import Forbidden, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])
POLICY_ATTR = "_signage_policy"
CSRF_HEADER = "X-CSRF-Token"
# Console forms posted without JavaScript carry the same token in this field.
CSRF_FIELD = "csrf_token"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


class Audience(enum.StrEnum):
    PUBLIC = "public"  # anyone, no credentials
    DEVICE = "device"  # a player with its device token
    OPERATOR = "operator"  # a user, by session or API token


@dataclass(frozen=True)
class Policy:
    audience: Audience
    # The least role the actor must hold somewhere; the object's own organisation is
    # checked by the service with Actor.require().
    role: Role | None = None

    def describe(self) -> str:
        if self.audience is Audience.OPERATOR and self.role:
            return f"operator with role ≥ {self.role.value}"
        return self.audience.value


PUBLIC = Policy(Audience.PUBLIC)
DEVICE = Policy(Audience.DEVICE)
READ = Policy(Audience.OPERATOR, Role.VIEWER)
WRITE = Policy(Audience.OPERATOR, Role.OPERATOR)
APPROVE = Policy(Audience.OPERATOR, Role.APPROVER)
ADMIN = Policy(Audience.OPERATOR, Role.ADMIN)


def declare(policy: Policy) -> Callable[[F], F]:
    """Mark a view with its policy (for views registered without `Api.route`)."""

    def mark(view: F) -> F:
        setattr(view, POLICY_ATTR, policy)
        return view

    return mark


def policy_of(view: Callable[..., Any]) -> Policy | None:
    return getattr(view, POLICY_ATTR, None)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def csrf_given() -> str:
    """The CSRF token the request carries: the header, else a form's hidden field."""
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.mimetype in FORM_TYPES:
        given = request.form.get(CSRF_FIELD, "")
    return given


def client_address() -> str:
    """The caller's address for rate limits: X-Forwarded-For counts only from the proxies
    in the `trusted_proxies` setting."""
    return source_address(
        request.remote_addr,
        request.headers.get("X-Forwarded-For"),
        current_app.config["SIGNAGE"].trusted_proxies,
    )


def current_actor() -> Actor:
    """The operator making this request: an API token, else the session's user."""
    if "actor" in g:
        actor: Actor = g.actor
        return actor
    token = bearer_token()
    db = get_session()
    fresh = not db.in_transaction()
    if token is not None:
        if token.startswith(DEVICE_TOKEN_PREFIX):
            raise Unauthorized("device tokens cannot call operator routes")
        if not token.startswith(API_TOKEN_PREFIX):
            raise Unauthorized("unrecognised bearer token")
        actor = authenticate_api_token(db, token, clock.now())
    else:
        user = _session_user(db)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            expected = session.get("csrf", "")
            given = csrf_given()
            if not (expected and hmac.compare_digest(expected, given)):
                raise Forbidden(f"session requests that change data need the {CSRF_HEADER} header")
        actor = actor_for_user(user)
    g.actor = actor
    if fresh and request.method not in SAFE_METHODS:
        # Authenticating only read. End that transaction, so that the body, read next at the
        # client's pace, is not read while holding SQLite's write lock (server/db.py).
        db.commit()
    return actor


SESSION_ID = "sid"
SESSION_SEEN = "seen"


def _session_user(db: Session) -> User:
    """The user of the request's browser session, checked against its row on the server."""
    now = clock.now()
    idle = timedelta(minutes=current_app.config["SIGNAGE"].session_idle_minutes)
    row = login_sessions.active_session(db, session.get(SESSION_ID), now)
    seen = session.get(SESSION_SEEN)
    fresh = isinstance(seen, int) and now.timestamp() - seen <= idle.total_seconds()
    user = db.get(User, row.user_id) if row is not None and fresh else None
    if user is None or not user.active:
        raise Unauthorized("log in or send an API token")
    session[SESSION_SEEN] = int(now.timestamp())
    return user


def enforce(policy: Policy) -> None:
    """Authenticate per the policy and check the coarse role; raises 401/403."""
    if policy.audience is Audience.OPERATOR:
        actor = current_actor()
        if policy.role is not None:
            best = actor.max_role()
            if best is None or ROLE_RANK[best] < ROLE_RANK[policy.role]:
                raise Forbidden(f"needs the {policy.role.value} role")
    elif policy.audience is Audience.DEVICE:
        # The player API resolves the device itself; here only the shape is checked.
        token = bearer_token()
        if token is None or not token.startswith(DEVICE_TOKEN_PREFIX):
            raise Unauthorized("send the device token as a bearer token")


def check_login(email: str, password: str) -> User:
    """The user these credentials belong to; each failure is counted per account and source
    address and audited (then 401), and a throttled key answers 429 with Retry-After."""
    db = get_session()
    user = authenticate(db, email, password, client_address(), clock.now())
    if user is None:
        db.commit()  # the failure counts (and is audited) even though the answer is an error
        raise Unauthorized("wrong email or password")
    return user


def sign_in(user: User) -> str:
    """Start a server-side session for `user` with a fresh id (no fixation), ending the one
    this browser had; commits; returns the session's CSRF token."""
    db, now = get_session(), clock.now()
    lifetime = timedelta(hours=current_app.config["SIGNAGE"].session_lifetime_hours)
    login_sessions.end_session(db, session.get(SESSION_ID), now)
    sid = login_sessions.open_session(db, user.id, now, lifetime)
    db.commit()
    session.clear()
    session[SESSION_ID] = sid
    session[SESSION_SEEN] = int(now.timestamp())
    session["csrf"] = secrets.token_urlsafe(24)
    session.permanent = True
    g.pop("actor", None)
    return str(session["csrf"])


def sign_out() -> None:
    """End this browser's session on the server too: a copy of the cookie no longer works."""
    db = get_session()
    login_sessions.end_session(db, session.get(SESSION_ID), clock.now())
    db.commit()
    session.clear()
    g.pop("actor", None)
