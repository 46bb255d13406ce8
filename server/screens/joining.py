"""How a player without a token joins: by a pairing code an operator claims
(`server.screens.pairing`) or by an enrolment token (`server.screens.enrolment`); both land
the screen through `server.screens.placement`. The operator's side — claiming, enrolment
tokens, revoking a device — checks the actor's role and records the audit event; the REST
views and the command line both call it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.accounts.organisations import org_or_404
from server.auth import audit
from server.auth.actors import ROLE_RANK, Actor
from server.auth.limits import Limit
from server.config import Settings
from server.db import MAX_ID
from server.errors import FieldError, NotFound, ValidationFailed
from server.screens import enrolment, keys, pairing
from server.screens.devices import revoke_device_token
from server.screens.models import EnrolmentToken, Screen
from server.screens.placement import Hello, HelloOutcome
from server.screens.services import get_screen

WINDOW: Final = timedelta(minutes=10)


def pairing_limit(settings: Settings) -> Limit:
    return Limit(
        "pairing-address", settings.pairings_per_address, WINDOW, "new pairings from this address"
    )


def claim_limits(settings: Settings) -> tuple[Limit, Limit]:
    """Wrong codes per organisation claimed into, and per source address."""
    return (
        Limit(
            "claim-organisation",
            settings.claim_failures_per_organisation,
            WINDOW,
            "wrong pairing codes for this organisation",
        ),
        Limit(
            "claim-address",
            settings.claim_failures_per_address,
            WINDOW,
            "wrong pairing codes from this address",
        ),
    )


def hello(
    session: Session, request: Hello, now: datetime, limit: Limit | None = None
) -> HelloOutcome:
    """Answer a hello (docs/player-protocol.md §1); the caller commits. A proof of the
    device key is checked first (401 when it does not hold); `limit` bounds the new
    pairings per source address."""
    device_key = keys.verify(request.hardware_id, request.proof, now) if request.proof else None
    if request.enrol_token is not None:
        return enrolment.enrol(session, request, device_key, now)
    return pairing.answer(session, request, device_key, now, limit)


# The operator's side, shared by the REST views and the command line.


def claim_org_key(
    session: Session,
    actor: Actor,
    organisation_id: int | None,
    replace_screen_id: int | None,
) -> tuple[Organisation | None, str]:
    """The organisation a claim lands in (checked: operator there) and the key its
    wrong-code limit counts under (the replaced screen's organisation for a replacement)."""
    org: Organisation | None = None
    if organisation_id is not None:
        org = org_or_404(session, actor, organisation_id)
        actor.require(org.path, Role.OPERATOR)
    if replace_screen_id is None:
        return org, str(organisation_id)
    target = get_screen(session, actor, replace_screen_id, Role.OPERATOR)
    if org is not None and org.id != target.organisation_id:
        raise ValidationFailed(
            "a replacement stays in its screen's organisation",
            [FieldError("organisation_id", "is not the replaced screen's organisation")],
        )
    return org, str(target.organisation_id)


def claim_code(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    code: str,
    organisation_id: int | None = None,
    replace_screen_id: int | None = None,
    name: str | None = None,
    group_ids: Sequence[int] = (),
    timezone: str | None = None,
) -> tuple[Screen, bool]:
    """An operator claims the code a screen shows (audited; the caller commits): the screen
    and whether the device replaced another screen's. NotFound naming `code` for a wrong
    code (the REST view counts those against its limits)."""
    org, _ = claim_org_key(session, actor, organisation_id, replace_screen_id)

    def may_manage(screen: Screen) -> bool:
        role = actor.role_in(screen.organisation.path)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.OPERATOR]

    screen, replaced = pairing.claim(
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
    typed = code.upper()
    if replaced:
        after = {
            "code": typed,
            "hardware_id": screen.hardware_id,
            "device_key": screen.device_key,
            "old_device": "token revoked",
        }
        audit.record(
            session, actor, now, "replace_device", "screen", screen.id, screen.organisation_id,
            after=after,
        )  # fmt: skip
    else:
        audit.record(
            session, actor, now, "claim", "screen", screen.id, screen.organisation_id,
            after={"name": screen.name, "code": typed},
        )  # fmt: skip
    return screen, replaced


def create_enrolment_token(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    organisation_id: int,
    expires_at: datetime,
    max_uses: int,
    group_ids: Sequence[int] = (),
    timezone: str | None = None,
    name: str = "",
) -> tuple[EnrolmentToken, str]:
    """An admin issues an enrolment token (audited): the row and its clear text, shown once."""
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.ADMIN)
    row, clear = enrolment.issue_enrolment_token(
        session,
        org,
        expires_at=expires_at,
        max_uses=max_uses,
        group_ids=group_ids,
        timezone=timezone,
        name=name,
        now=now,
        created_by_id=actor.user_id or None,
    )
    audit.record(
        session, actor, now, "create", "enrolment_token", row.id, org.id,
        after={"name": row.name, "uses": row.max_uses},
    )  # fmt: skip
    return row, clear


def enrolment_tokens(session: Session, actor: Actor, organisation_id: int) -> list[EnrolmentToken]:
    """An organisation's enrolment tokens, for its admins."""
    org = org_or_404(session, actor, organisation_id)
    actor.require(org.path, Role.ADMIN)
    return list(
        session.scalars(
            select(EnrolmentToken)
            .where(EnrolmentToken.organisation_id == org.id)
            .order_by(EnrolmentToken.id)
        )
    )


def revoke_enrolment_token(
    session: Session, actor: Actor, now: datetime, token_id: int
) -> EnrolmentToken:
    """Revoke an enrolment token (screens that joined with it stay); audited."""
    row = session.get(EnrolmentToken, token_id) if 0 < token_id <= MAX_ID else None
    org = session.get(Organisation, row.organisation_id) if row is not None else None
    if row is None or org is None or not actor.sees(org.path):
        raise NotFound(f"no enrolment token {token_id}")
    actor.require(org.path, Role.ADMIN)
    enrolment.revoke_enrolment_token(row, now)
    audit.record(session, actor, now, "revoke", "enrolment_token", row.id, org.id)
    return row


def revoke_device(session: Session, actor: Actor, now: datetime, screen_id: int) -> Screen:
    """Forget the screen's device token: its player gets 401 and pairs again; audited."""
    screen = get_screen(session, actor, screen_id, Role.OPERATOR)
    revoke_device_token(session, screen.id)
    audit.record(session, actor, now, "revoke", "device_token", screen.id, screen.organisation_id)
    return screen
