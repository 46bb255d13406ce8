"""Users and their memberships."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth import MIN_PASSWORD_LENGTH, hash_password
from server.errors import Conflict, FieldError, ValidationFailed
from server.models import Membership, Organisation, Role, User

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 320:
        raise ValidationFailed(
            f"{email!r} is not an email address", [FieldError("email", "not an email address")]
        )
    return email


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
            [FieldError("password", f"at least {MIN_PASSWORD_LENGTH} characters")],
        )


def create_user(
    session: Session,
    email: str,
    password: str,
    organisation: Organisation,
    role: Role,
    now: datetime,
    name: str = "",
) -> User:
    email = normalise_email(email)
    check_password_strength(password)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict(f"a user {email} exists", [FieldError("email", "already taken")])
    user = User(email=email, name=name, password_hash=hash_password(password), created_at=now)
    user.memberships.append(
        Membership(organisation_id=organisation.id, role=role, organisation=organisation)
    )
    session.add(user)
    return user
