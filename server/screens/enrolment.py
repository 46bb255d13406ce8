"""Enrolment tokens: one secret lets many players join an organisation without a code each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.auth.actors import ENROLMENT_TOKEN_PREFIX, new_token, token_digest
from server.errors import Conflict, FieldError, Forbidden, ValidationFailed
from server.screens.devices import mint_device_token
from server.screens.models import EnrolmentToken, Group
from server.screens.placement import (
    Hello,
    HelloOutcome,
    check_groups,
    check_timezone,
    is_bound_elsewhere,
    place_screen,
    screen_of,
)


def issue_enrolment_token(
    session: Session,
    org: Organisation,
    *,
    expires_at: datetime,
    max_uses: int,
    group_ids: Sequence[int],
    timezone: str | None,
    name: str,
    now: datetime,
    created_by_id: int | None,
) -> tuple[EnrolmentToken, str]:
    """A new token row and its clear text (shown once, stored as a hash)."""
    if expires_at <= now:
        raise ValidationFailed(
            "an enrolment token must expire in the future",
            [FieldError("expires_at", "is not in the future")],
        )
    timezone = check_timezone(timezone if timezone is not None else org.timezone)
    groups = check_groups(session, org, group_ids)
    clear = new_token(ENROLMENT_TOKEN_PREFIX)
    row = EnrolmentToken(
        organisation_id=org.id,
        token_hash=token_digest(clear),
        name=name,
        group_ids=[g.id for g in groups],
        timezone=timezone,
        max_uses=max_uses,
        uses=0,
        expires_at=expires_at,
        created_at=now,
        created_by_id=created_by_id,
    )
    session.add(row)
    session.flush()
    return row, clear


def _refused(reason: str) -> Forbidden:
    return Forbidden(f"enrolment token refused: {reason}", [FieldError("enrol_token", reason)])


def enrol(
    session: Session, request: Hello, device_key: str | None, now: datetime
) -> HelloOutcome:
    """Join with an enrolment token: the screen is placed at once and its token returned.

    A hardware id that already names a screen gets that screen back only when the screen
    lies in the token's organisation (or below) and is bound to the key this hello proved,
    or to none yet (a version-1 screen, bound now when a key was proved); anything else is
    409 and takes nothing, not even one of the token's uses."""
    token = request.enrol_token or ""
    row = None
    if token.startswith(ENROLMENT_TOKEN_PREFIX) and len(token) <= 200:
        row = session.scalar(
            select(EnrolmentToken).where(EnrolmentToken.token_hash == token_digest(token))
        )
    if row is None:
        raise _refused("unknown token")
    if row.revoked_at is not None:
        raise _refused("revoked")
    if row.expires_at <= now:
        raise _refused("expired")
    org = session.get(Organisation, row.organisation_id)
    assert org is not None  # the token cascades with its organisation
    existing = screen_of(session, request.hardware_id)
    if existing is not None and (
        not existing.organisation.path.startswith(org.path)
        or is_bound_elsewhere(existing, device_key)
    ):
        raise Conflict(
            "this hardware id belongs to a screen bound to another device or outside the "
            "token's organisation; an operator who manages it must replace its device",
            [FieldError("hardware_id", "belongs to a screen this player may not take")],
        )
    # A conditional increment: two players racing for the last use cannot both get it.
    taken = session.execute(
        update(EnrolmentToken)
        .where(EnrolmentToken.id == row.id, EnrolmentToken.uses < EnrolmentToken.max_uses)
        .values(uses=EnrolmentToken.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:
        raise _refused("used up")
    # Groups deleted since the token was issued are skipped, not an error for the player.
    groups = list(session.scalars(select(Group).where(Group.id.in_(row.group_ids or []))))
    groups = [g for g in groups if org.path.startswith(g.organisation.path)]
    screen = place_screen(
        session,
        existing=existing,  # a reinstalled player of this subtree gets its own screen back
        hardware_id=request.hardware_id,
        device_key=device_key,
        org=org,
        name=request.name or request.hardware_id,
        timezone=row.timezone,
        width=request.width,
        height=request.height,
        groups=sorted(groups, key=lambda g: g.id),
        now=now,
        keep_settings_on_adopt=True,
    )
    device_token = mint_device_token(screen, now)
    return HelloOutcome(
        state="paired", device_token=device_token, screen_id=screen.id, enrolled=True
    )


def revoke_enrolment_token(row: EnrolmentToken, now: datetime) -> None:
    if row.revoked_at is None:
        row.revoked_at = now
