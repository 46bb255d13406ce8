"""What operators do to players, checked and audited in one place for the REST views and
the console: claim a pairing code, issue and revoke enrolment tokens, revoke a device,
queue commands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.accounts.organisations import org_or_404
from server.auth import audit, limits
from server.auth.actors import ROLE_RANK, Actor
from server.config import Settings
from server.db import MAX_ID
from server.errors import FieldError, NotFound, ValidationFailed
from server.screens import commands, joining
from server.screens.devices import revoke_device_token
from server.screens.enrolment import issue_enrolment_token, revoke_enrolment_token
from server.screens.models import Command, EnrolmentToken, Screen
from server.screens.pairing import claim
from server.screens.services import get_screen


def _audit(
    session: Session,
    actor: Actor,
    now: datetime,
    action: str,
    object_type: str,
    obj_id: object,
    org_id: int,
    **after: object,
) -> None:
    audit.record(
        session, actor, now, action, object_type, obj_id, org_id, after=dict(after) or None
    )


def claim_code(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    code: str,
    organisation_id: int | None,
    name: str | None = None,
    group_ids: Sequence[int] = (),
    timezone: str = "UTC",
    replace_screen_id: int | None = None,
    settings: Settings,
    address: str,
) -> Screen:
    """Claim the code a screen shows: a new screen in the organisation, or (with
    `replace_screen_id`) the device takes the place of that screen's device, which may be a
    pre-registered screen that never had one. Wrong codes count against the organisation
    and the caller's address (committed even though the claim fails). The caller commits."""
    org: Organisation | None = None
    if organisation_id is not None:
        org = org_or_404(session, actor, organisation_id)
        actor.require(org.path, Role.OPERATOR)
    if replace_screen_id is not None:
        target = get_screen(session, actor, replace_screen_id, Role.OPERATOR)
        if org is not None and org.id != target.organisation_id:
            raise ValidationFailed(
                "a replacement stays in its screen's organisation",
                [FieldError("organisation_id", "is not the replaced screen's organisation")],
            )
        org_key = str(target.organisation_id)
    else:
        org_key = str(organisation_id)
    by_org, by_address = joining.claim_limits(settings)
    limits.check(session, by_org, org_key, now)
    limits.check(session, by_address, address, now)

    def may_manage(screen: Screen) -> bool:
        role = actor.role_in(screen.organisation.path)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.OPERATOR]

    try:
        screen, replaced = claim(
            session,
            code=code,
            organisation=org,
            name=name,
            group_ids=group_ids,
            timezone=timezone,
            now=now,
            may_manage=may_manage,
            replace_screen_id=replace_screen_id,
        )
    except NotFound as exc:
        if any(e.field == "code" for e in exc.errors):  # a wrong code: it counts
            session.rollback()
            limits.hit(session, by_org, org_key, now)
            limits.hit(session, by_address, address, now)
            session.commit()
        raise
    typed = code.upper()
    if replaced:
        _audit(
            session, actor, now, "replace_device", "screen", screen.id, screen.organisation_id,
            code=typed, hardware_id=screen.hardware_id, device_key=screen.device_key,
            old_device="token revoked",
        )  # fmt: skip
    else:
        _audit(
            session, actor, now, "claim", "screen", screen.id, screen.organisation_id,
            name=screen.name, code=typed,
        )  # fmt: skip
    return screen


def create_enrolment_token(
    session: Session,
    actor: Actor,
    now: datetime,
    organisation_id: int,
    *,
    expires_at: datetime,
    max_uses: int,
    group_ids: Sequence[int] = (),
    timezone: str = "UTC",
    name: str = "",
) -> tuple[EnrolmentToken, str]:
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.ADMIN)
    row, clear = issue_enrolment_token(
        session,
        org,
        expires_at=expires_at,
        max_uses=max_uses,
        group_ids=group_ids,
        timezone=timezone,
        name=name,
        now=now,
        created_by_id=actor.user_id,
    )
    _audit(
        session,
        actor,
        now,
        "create",
        "enrolment_token",
        row.id,
        org.id,
        name=row.name,
        uses=row.max_uses,
    )
    return row, clear


def enrolment_tokens(session: Session, actor: Actor, organisation_id: int) -> list[EnrolmentToken]:
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.ADMIN)
    return list(
        session.scalars(
            select(EnrolmentToken)
            .where(EnrolmentToken.organisation_id == org.id)
            .order_by(EnrolmentToken.id)
        )
    )


def revoke_enrolment(session: Session, actor: Actor, now: datetime, token_id: int) -> None:
    row = session.get(EnrolmentToken, token_id) if 0 < token_id <= MAX_ID else None
    org = session.get(Organisation, row.organisation_id) if row is not None else None
    if row is None or org is None or not actor.sees(org.path):
        raise NotFound(f"no enrolment token {token_id}")
    actor.require(org.path, Role.ADMIN)
    revoke_enrolment_token(row, now)
    _audit(session, actor, now, "revoke", "enrolment_token", row.id, org.id)


def revoke_device(session: Session, actor: Actor, now: datetime, screen_id: int) -> Screen:
    screen = get_screen(session, actor, screen_id, Role.OPERATOR)
    revoke_device_token(session, screen.id)
    _audit(session, actor, now, "revoke", "device_token", screen.id, screen.organisation_id)
    return screen


def queue_command(
    session: Session, actor: Actor, now: datetime, screen_id: int, kind: str
) -> Command:
    screen = get_screen(session, actor, screen_id, Role.OPERATOR)
    command = commands.queue_command(session, screen, kind, now, actor.user_id)
    _audit(
        session, actor, now, "command", "screen", screen.id, screen.organisation_id, command=kind
    )
    return command


def recent_commands(
    session: Session, actor: Actor, screen_id: int, limit: int = 50
) -> list[Command]:
    screen = get_screen(session, actor, screen_id, Role.VIEWER)
    return list(
        session.scalars(
            select(Command)
            .where(Command.screen_id == screen.id)
            .order_by(Command.id.desc())
            .limit(limit)
        )
    )
