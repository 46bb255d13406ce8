"""Who is asking and what they may do: users, roles per organisation subtree, tokens.

An actor sees an organisation when one of its memberships is on that organisation's path; its
role there is the one of the nearest such membership. Objects outside what an actor sees are
reported as not found, so one organisation cannot probe another's ids.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from server.accounts.models import ApiToken, Organisation, Role, User
from server.errors import Forbidden, NotFound, Unauthorized

ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.APPROVER: 2, Role.ADMIN: 3}

API_TOKEN_PREFIX = "sgt_"  # noqa: S105 - a public prefix, not a secret
DEVICE_TOKEN_PREFIX = "sgd_"  # noqa: S105 - a public prefix, not a secret
ENROLMENT_TOKEN_PREFIX = "sge_"  # noqa: S105 - a public prefix, not a secret
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def check_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Tokens are high-entropy, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


@dataclass(frozen=True)
class Actor:
    """An authenticated operator: a user, and their roles by organisation path."""

    user_id: int
    email: str
    roles: dict[str, Role] = field(default_factory=dict)  # org path "/1/4/" -> role
    via_token: bool = False

    @property
    def label(self) -> str:
        return self.email

    def role_in(self, org_path: str) -> Role | None:
        """The role of the nearest membership on `org_path`, or None when out of scope."""
        best: tuple[int, Role] | None = None
        for path, role in self.roles.items():
            if org_path.startswith(path) and (best is None or len(path) > best[0]):
                best = (len(path), role)
        return best[1] if best else None

    def sees(self, org_path: str) -> bool:
        return self.role_in(org_path) is not None

    def require(self, org_path: str, role: Role) -> Role:
        """Raise NotFound outside the actor's subtrees, Forbidden when the role is too weak."""
        have = self.role_in(org_path)
        if have is None:
            raise NotFound("no such object")
        if ROLE_RANK[have] < ROLE_RANK[role]:
            raise Forbidden(f"needs the {role.value} role, you are {have.value} here")
        return have

    def max_role(self) -> Role | None:
        ranked = sorted(self.roles.values(), key=ROLE_RANK.__getitem__)
        return ranked[-1] if ranked else None

    @property
    def scope_paths(self) -> list[str]:
        """Roots of the subtrees this actor sees (nested memberships collapsed)."""
        paths = sorted(self.roles, key=len)
        roots: list[str] = []
        for p in paths:
            if not any(p.startswith(r) for r in roots):
                roots.append(p)
        return roots


# The command line acts with full rights unless told who it acts as (`--as EMAIL`).
SYSTEM = Actor(user_id=0, email="signage-cli", roles={"/": Role.ADMIN})


def actor_by_email(session: Session, email: str | None) -> Actor:
    """The active user `email` as an actor, or the command line's own SYSTEM actor for None."""
    if email is None:
        return SYSTEM
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        raise NotFound(f"no active user {email!r}")
    return actor_for_user(user)


def actor_for_user(user: User, via_token: bool = False) -> Actor:
    return Actor(
        user_id=user.id,
        email=user.email,
        roles={m.organisation.path: m.role for m in user.memberships},
        via_token=via_token,
    )


def authenticate_password(session: Session, email: str, password: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not check_password(user.password_hash, password):
        raise Unauthorized("wrong email or password")
    return user


def authenticate_api_token(session: Session, token: str, now: datetime) -> Actor:
    if not token.startswith(API_TOKEN_PREFIX):
        raise Unauthorized("not an API token")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked token")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthorized("token expired")
    if not row.user.active:
        raise Unauthorized("user disabled")
    return actor_for_user(row.user, via_token=True)


def create_api_token(
    session: Session, user: User, name: str, now: datetime, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token row and the clear text, which is never stored."""
    token = new_token(API_TOKEN_PREFIX)
    row = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_digest(token),
        prefix=token[:12],
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    return row, token


def org_path_of(session: Session, org_id: int) -> str:
    path = session.scalar(select(Organisation.path).where(Organisation.id == org_id))
    if path is None:
        raise NotFound("no such organisation")
    return path
