"""Logging in with a password (a session cookie for the web UI) and asking who you are."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, current_app, request, session
from pydantic import BaseModel, Field

from server import clock
from server.accounts.models import User
from server.accounts.views.users import MembershipOut
from server.api.registry import api
from server.api.schemas import Strict
from server.auth import sessions as login_sessions
from server.auth.login import authenticate
from server.auth.policy import PUBLIC, READ, SESSION_ID, SESSION_SEEN, current_actor
from server.db import get_session
from server.errors import Unauthorized

bp = Blueprint("session", __name__, url_prefix="/session")


class LoginIn(Strict):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class MeOut(BaseModel):
    user_id: int
    email: str
    memberships: list[MembershipOut]
    csrf_token: str | None = None


@api.route(
    bp,
    "",
    "POST",
    policy=PUBLIC,
    summary="Log in with email and password",
    body=LoginIn,
    response=MeOut,
    status=201,
    extra_responses={
        401: "Wrong email or password",
        429: "Too many failed logins for this account or address; see Retry-After",
    },
)
def login(body: LoginIn) -> MeOut:
    db = get_session()
    now = clock.now()
    user = authenticate(db, body.email, body.password, request.remote_addr or "unknown", now)
    if user is None:
        db.commit()  # the failure counts (and is audited) even though the answer is an error
        raise Unauthorized("wrong email or password")
    lifetime = timedelta(hours=current_app.config["SIGNAGE"].session_lifetime_hours)
    login_sessions.end_session(db, session.get(SESSION_ID), now)  # no fixation: a new id
    sid = login_sessions.open_session(db, user.id, now, lifetime)
    db.commit()
    session.clear()
    session[SESSION_ID] = sid
    session[SESSION_SEEN] = int(now.timestamp())
    session["csrf"] = secrets.token_urlsafe(24)
    session.permanent = True
    return _me(user.id, session["csrf"])


@api.route(bp, "", "GET", policy=READ, summary="Who am I", response=MeOut)
def whoami() -> MeOut:
    actor = current_actor()
    return _me(actor.user_id, None if actor.via_token else session.get("csrf"))


@api.route(bp, "", "DELETE", policy=PUBLIC, summary="Log out")
def logout() -> None:
    """Ends the session on the server too: a copy of the cookie no longer works."""
    db = get_session()
    login_sessions.end_session(db, session.get(SESSION_ID), clock.now())
    db.commit()
    session.clear()


def _me(user_id: int, csrf: str | None) -> MeOut:
    user = get_session().get(User, user_id)
    assert user is not None
    return MeOut(
        user_id=user.id,
        email=user.email,
        memberships=[
            MembershipOut(
                organisation_id=m.organisation_id,
                organisation=m.organisation.name,
                role=m.role,
            )
            for m in user.memberships
        ],
        csrf_token=csrf,
    )
