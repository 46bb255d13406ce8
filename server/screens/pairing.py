"""Hello: a player without a token asks to join, and learns its pairing code or its token.

States of one hardware id: no pairing ▸ pairing (code shown, waiting) ▸ claimed (an
operator chose where the screen belongs) ▸ collected (the next hello mints the device
token and deletes the pairing). The token is minted at collection, never stored in clear.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.errors import Conflict, FieldError, NotFound
from server.screens.codes import new_code, normalise_code
from server.screens.devices import mint_device_token
from server.screens.models import Pairing, Screen
from server.screens.placement import (
    Hello,
    HelloOutcome,
    attach_screen,
    check_groups,
    check_timezone,
    place_screen,
)

PAIRING_TTL: Final = timedelta(minutes=15)
# After a claim the player has this long to collect its token.
COLLECT_TTL: Final = timedelta(minutes=15)


def answer(session: Session, request: Hello, now: datetime) -> HelloOutcome:
    """Answer a hello that brings no enrolment token: show a code, or collect the token."""
    pairing = session.scalars(
        select(Pairing)
        .where(Pairing.hardware_id == request.hardware_id)
        .order_by(Pairing.id.desc())
    ).first()
    if pairing is not None and pairing.expires_at > now:
        if pairing.screen_id is not None:
            return _collect(session, pairing, now)
        _refresh(pairing, request)
        return _waiting(pairing)
    session.execute(delete(Pairing).where(Pairing.hardware_id == request.hardware_id))
    pairing = Pairing(
        hardware_id=request.hardware_id,
        code=_free_code(session, now),
        width=request.width,
        height=request.height,
        name=(request.name or "")[:200],
        player_version=request.player_version[:40],
        created_at=now,
        expires_at=now + PAIRING_TTL,
    )
    session.add(pairing)
    session.flush()
    return _waiting(pairing)


def _waiting(pairing: Pairing) -> HelloOutcome:
    return HelloOutcome(state="pairing", pairing_code=pairing.code, expires_at=pairing.expires_at)


def _refresh(pairing: Pairing, request: Hello) -> None:
    """Keep what the player says about itself current (written only when it changed)."""
    name = (request.name or "")[:200]
    version = request.player_version[:40]
    if (pairing.width, pairing.height, pairing.name, pairing.player_version) != (
        request.width,
        request.height,
        name,
        version,
    ):
        pairing.width, pairing.height = request.width, request.height
        pairing.name, pairing.player_version = name, version


def _free_code(session: Session, now: datetime) -> str:
    """A code no live pairing holds (31⁶ codes: a clash is rare, and retried)."""
    for _ in range(20):
        code = new_code()
        clash = session.scalar(
            select(Pairing.id).where(Pairing.code == code, Pairing.expires_at > now)
        )
        if clash is None:
            return code
    raise Conflict("could not find a free pairing code; try again")  # pragma: no cover


def _collect(session: Session, pairing: Pairing, now: datetime) -> HelloOutcome:
    screen = session.get(Screen, pairing.screen_id)
    if screen is None:  # pragma: no cover - the pairing row cascades with its screen
        raise NotFound("the claimed screen is gone; say hello again")
    token = mint_device_token(screen, now)
    # Only one hello may collect: a second, concurrent one finds the pairing gone.
    gone = session.execute(delete(Pairing).where(Pairing.id == pairing.id))
    if getattr(gone, "rowcount", 1) != 1:
        raise Conflict("this pairing was just collected; say hello again")
    return HelloOutcome(state="paired", device_token=token, screen_id=screen.id)


def claim(
    session: Session,
    *,
    code: str,
    organisation: Organisation,
    name: str | None,
    group_ids: Sequence[int],
    timezone: str,
    now: datetime,
    may_adopt: Callable[[Screen], bool],
    onto: Screen | None = None,
) -> Screen:
    """An operator claims the code a screen shows: the screen is placed, the player's next
    hello collects its token. `may_adopt` says whether the operator may take over the
    existing screen of the same hardware id (if any); the caller checks the organisation.
    With `onto`, the player takes over that pre-registered screen instead (the caller checks
    the operator may manage it)."""
    typed = normalise_code(code)
    pairing = session.scalar(
        select(Pairing).where(
            Pairing.code == typed, Pairing.screen_id.is_(None), Pairing.expires_at > now
        )
    )
    if pairing is None:
        raise NotFound(
            f"no screen is waiting with the code {typed!r}",
            [FieldError("code", "unknown, expired or already claimed")],
        )
    check_timezone(timezone)
    groups = check_groups(session, organisation, group_ids)
    if onto is not None:
        screen = attach_screen(
            session,
            onto,
            hardware_id=pairing.hardware_id,
            org=organisation,
            name=name,
            timezone=timezone,
            width=pairing.width,
            height=pairing.height,
            groups=groups,
        )
        pairing.screen_id = screen.id
        pairing.expires_at = now + COLLECT_TTL
        return screen
    screen = place_screen(
        session,
        hardware_id=pairing.hardware_id,
        org=organisation,
        name=name or pairing.name or pairing.hardware_id,
        timezone=timezone,
        width=pairing.width,
        height=pairing.height,
        groups=groups,
        now=now,
        may_adopt=may_adopt,
    )
    pairing.screen_id = screen.id
    pairing.expires_at = now + COLLECT_TTL
    return screen


def prune_pairings(session: Session, now: datetime) -> int:
    """Delete expired pairings (a job); returns how many."""
    result = session.execute(delete(Pairing).where(Pairing.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
