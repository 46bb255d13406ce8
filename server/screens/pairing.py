"""Hello: a player without a token asks to join, and learns its pairing code or its token.

States of one (hardware id, device key): no pairing ▸ pairing (code shown, waiting) ▸
claimed (an operator chose where the screen belongs) ▸ collected (the next hello mints the
device token and deletes the pairing). The token is minted at collection, never stored in
clear. A pairing belongs to the key its player proved: a hello proving another key (or
none) never sees its code, never collects it and never deletes it.

A hello changes no screen. Claiming a code whose hardware id already names a screen takes
that screen only when the pairing proved the screen's own key and the claimer may manage
it; any other device for that hardware id (a new player on a broken screen, an impostor)
needs an operator who may manage the screen to accept it explicitly as a *replacement*.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.auth.limits import Limit, take
from server.errors import Conflict, FieldError, NotFound, ValidationFailed
from server.screens.codes import new_code, normalise_code
from server.screens.devices import mint_device_token
from server.screens.models import Pairing, Screen
from server.screens.placement import (
    Hello,
    HelloOutcome,
    check_groups,
    check_timezone,
    is_bound_elsewhere,
    place_screen,
    screen_of,
)

PAIRING_TTL: Final = timedelta(minutes=15)
# After a claim the player has this long to collect its token.
COLLECT_TTL: Final = timedelta(minutes=15)


def answer(
    session: Session,
    request: Hello,
    device_key: str | None,
    now: datetime,
    limit: Limit | None = None,
) -> HelloOutcome:
    """Answer a hello that brings no enrolment token: show a code, or collect the token.
    `device_key` is the key the hello proved (None: a version-1 hello); `limit` bounds the
    new pairings per source address."""
    mine = (
        Pairing.hardware_id == request.hardware_id,
        Pairing.device_key.is_(None) if device_key is None else Pairing.device_key == device_key,
    )
    pairing = session.scalars(select(Pairing).where(*mine).order_by(Pairing.id.desc())).first()
    if pairing is not None and pairing.expires_at > now:
        if pairing.screen_id is not None:
            return _collect(session, pairing, now)
        _refresh(pairing, request)
        return _waiting(pairing)
    if limit is not None:
        take(session, limit, request.source, now)
    session.execute(delete(Pairing).where(*mine))
    pairing = Pairing(
        hardware_id=request.hardware_id,
        device_key=device_key,
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
    if pairing.device_key is not None:
        screen.device_key = pairing.device_key
    # Only one hello may collect: a second, concurrent one finds the pairing gone.
    gone = session.execute(delete(Pairing).where(Pairing.id == pairing.id))
    if getattr(gone, "rowcount", 1) != 1:
        raise Conflict("this pairing was just collected; say hello again")
    return HelloOutcome(state="paired", device_token=token, screen_id=screen.id)


def claim(
    session: Session,
    *,
    code: str,
    organisation: Organisation | None,
    name: str | None,
    group_ids: Sequence[int],
    timezone: str | None,
    now: datetime,
    may_manage: Callable[[Screen], bool],
    replace_screen_id: int | None = None,
) -> tuple[Screen, bool]:
    """An operator claims the code a screen shows: the screen is placed, the player's next
    hello collects its token. Returns the screen and whether it was a replacement.

    Without `replace_screen_id` the code lands a new screen in `organisation`, or gives the
    same device (same proven key) its own screen back; a hardware id that belongs to a
    screen of another device, or one the claimer may not manage (`may_manage`), is 409.
    With it, the device takes the place of that screen's device (which loses its token
    now): the screen keeps its name, organisation, groups and history.
    """
    typed = normalise_code(code)
    pairing = find_waiting(session, typed, now)
    if pairing is None:
        raise NotFound(
            f"no screen is waiting with the code {typed!r}",
            [FieldError("code", "unknown, expired or already claimed")],
        )
    existing = screen_of(session, pairing.hardware_id)
    if replace_screen_id is not None:
        return replace_device(session, pairing, existing, replace_screen_id, now, may_manage), True
    if organisation is None:
        raise ValidationFailed(
            "say which organisation the screen joins",
            [FieldError("organisation_id", "is required unless replace_screen_id is given")],
        )
    if existing is not None and not may_manage(existing):
        raise Conflict(
            "this device's hardware id belongs to a screen you cannot manage; its "
            "organisation must delete that screen or replace its device",
            [FieldError("code", "the hardware id belongs to another organisation's screen")],
        )
    if existing is not None and (
        existing.device_key is None or is_bound_elsewhere(existing, pairing.device_key)
    ):
        raise Conflict(
            f"this device's hardware id belongs to screen {existing.id} ({existing.name!r}), "
            "and the device did not prove that screen's key; to give the screen this device, "
            f"claim with replace_screen_id={existing.id}",
            [FieldError("replace_screen_id", f"required: the device claims screen {existing.id}")],
        )
    timezone = check_timezone(timezone if timezone is not None else organisation.timezone)
    groups = check_groups(session, organisation, group_ids)
    screen = place_screen(
        session,
        existing=existing,
        hardware_id=pairing.hardware_id,
        device_key=pairing.device_key,
        org=organisation,
        name=name or pairing.name or pairing.hardware_id,
        timezone=timezone,
        width=pairing.width,
        height=pairing.height,
        groups=groups,
        now=now,
    )
    pairing.screen_id = screen.id
    pairing.expires_at = now + COLLECT_TTL
    return screen, False


def find_waiting(session: Session, code: str, now: datetime) -> Pairing | None:
    """The unclaimed, live pairing showing `code`."""
    return session.scalar(
        select(Pairing).where(
            Pairing.code == code, Pairing.screen_id.is_(None), Pairing.expires_at > now
        )
    )


def replace_device(
    session: Session,
    pairing: Pairing,
    existing: Screen | None,
    screen_id: int,
    now: datetime,
    may_manage: Callable[[Screen], bool],
) -> Screen:
    """The pairing's device takes the place of screen `screen_id`'s device."""
    target = session.get(Screen, screen_id)
    if target is None or not may_manage(target):
        raise NotFound(
            f"no screen {screen_id} that you may manage",
            [FieldError("replace_screen_id", "no such screen, or not yours to manage")],
        )
    if existing is not None and existing.id != target.id:
        raise Conflict(
            f"this device's hardware id belongs to another screen ({existing.id}); "
            "delete that screen or replace its device first",
            [FieldError("code", "the hardware id belongs to another screen")],
        )
    target.hardware_id = pairing.hardware_id
    target.device_key = pairing.device_key
    target.device_token_hash = None  # the old device stops working now
    target.token_issued_at = None
    target.width, target.height = pairing.width, pairing.height
    session.flush()
    pairing.screen_id = target.id
    pairing.expires_at = now + COLLECT_TTL
    return target


def prune_pairings(session: Session, now: datetime) -> int:
    """Delete expired pairings (a job); returns how many."""
    result = session.execute(delete(Pairing).where(Pairing.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
