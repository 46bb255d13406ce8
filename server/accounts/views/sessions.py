"""Logging in with a password (a session cookie for the web UI) and asking who you are."""

from __future__ import annotations

from flask import Blueprint, session
from pydantic import BaseModel, Field

from server.accounts.models import User
from server.accounts.views.users import MembershipOut
from server.api.registry import api
from server.api.schemas import Strict
from server.auth.policy import PUBLIC, READ, check_login, current_actor, sign_in, sign_out
from server.db import get_session

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
    user = check_login(body.email, body.password)
    return _me(user.id, sign_in(user))


@api.route(bp, "", "GET", policy=READ, summary="Who am I", response=MeOut)
def whoami() -> MeOut:
    actor = current_actor()
    return _me(actor.user_id, None if actor.via_token else session.get("csrf"))


@api.route(bp, "", "DELETE", policy=PUBLIC, summary="Log out")
def logout() -> None:
    """Ends the session on the server too: a copy of the cookie no longer works."""
    sign_out()


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
