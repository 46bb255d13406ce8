"""Where a joining player lands: its screen row, organisation, name and groups.

A hardware id names one screen, but it is no secret: what proves a device is its key
(`server.screens.keys`). A joining player gets its old screen back only when it proves the
key bound to that screen (or the screen has none yet) and whoever lets it in may manage
the screen; the callers (pairing, enrolment) refuse every other case with 409, so no
screen is ever detached from its device by someone else's join.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.errors import FieldError, ValidationFailed
from server.scheduling.localtime import check_zone
from server.screens.keys import KeyProof
from server.screens.models import Group, Screen

MAX_NAME = 200


RETRY_AFTER_S: Final = 5


@dataclass(frozen=True)
class Hello:
    """What a player says when it has no token (docs/player-protocol.md §1)."""

    hardware_id: str
    width: int
    height: int
    player_version: str = ""
    name: str | None = None
    enrol_token: str | None = None
    proof: KeyProof | None = None  # protocol 2; None from a version-1 player
    source: str = ""  # the client's address, for rate limits


@dataclass(frozen=True)
class HelloOutcome:
    state: Literal["pairing", "paired"]
    pairing_code: str | None = None
    expires_at: datetime | None = None
    retry_after: int = RETRY_AFTER_S
    device_token: str | None = None
    screen_id: int | None = None
    enrolled: bool = False  # paired by an enrolment token just now (201)


def check_timezone(name: str, field: str = "timezone") -> str:
    problem = check_zone(name)
    if problem is not None:
        raise ValidationFailed(f"unknown time zone {name!r}", [FieldError(field, problem)])
    return name


def check_groups(
    session: Session, org: Organisation, group_ids: Sequence[int], field: str = "group_ids"
) -> list[Group]:
    """The groups, each owned by `org` or one of its ancestors; ValidationFailed otherwise."""
    wanted = list(dict.fromkeys(group_ids))
    found: dict[int, Group] = {}
    if wanted:
        found = {g.id: g for g in session.scalars(select(Group).where(Group.id.in_(wanted)))}
    errors = []
    for index, group_id in enumerate(wanted):
        group = found.get(group_id)
        if group is None:
            errors.append(FieldError(f"{field}[{index}]", "no such group"))
        elif not org.path.startswith(group.organisation.path):
            errors.append(
                FieldError(f"{field}[{index}]", "the group belongs to another organisation")
            )
    if errors:
        raise ValidationFailed("some groups cannot hold this screen", errors)
    return [found[g] for g in wanted]


def unique_name(session: Session, org_id: int, wanted: str, keep_id: int | None = None) -> str:
    """`wanted`, or `wanted (2)`, `(3)`… — the first free name in the organisation."""
    base = (wanted.strip() or "screen")[: MAX_NAME - 8]
    taken = set(
        session.scalars(
            select(Screen.name).where(
                Screen.organisation_id == org_id,
                Screen.name.startswith(base, autoescape=True),
                *([Screen.id != keep_id] if keep_id is not None else []),
            )
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base} ({n})" in taken:
        n += 1
    return f"{base} ({n})"


def screen_of(session: Session, hardware_id: str) -> Screen | None:
    return session.scalar(select(Screen).where(Screen.hardware_id == hardware_id))


def is_bound_elsewhere(screen: Screen, device_key: str | None) -> bool:
    """Whether `screen` is bound to a key other than the proven `device_key`."""
    return screen.device_key is not None and screen.device_key != device_key


def place_screen(
    session: Session,
    *,
    existing: Screen | None,
    hardware_id: str,
    device_key: str | None,
    org: Organisation,
    name: str,
    timezone: str,
    width: int,
    height: int,
    groups: Sequence[Group],
    now: datetime,
    keep_settings_on_adopt: bool = False,
) -> Screen:
    """`existing` given back to its device (the caller checked that it may be), or a new
    screen for `hardware_id` in `org`, bound to `device_key`.

    With `keep_settings_on_adopt`, an adopted screen keeps its name, organisation, zone and
    groups (a reinstalled player re-enrolling); otherwise they are replaced (an operator's
    claim says where the screen now belongs).
    """
    if existing is not None:
        existing.device_token_hash = None
        existing.token_issued_at = None
        existing.device_key = device_key or existing.device_key
        existing.width, existing.height = width, height
        if not keep_settings_on_adopt:
            existing.organisation_id = org.id
            existing.organisation = org
            existing.name = unique_name(session, org.id, name, keep_id=existing.id)
            existing.timezone = timezone
            existing.groups = list(groups)
        session.flush()
        return existing
    screen = Screen(
        organisation_id=org.id,
        organisation=org,
        name=unique_name(session, org.id, name),
        hardware_id=hardware_id,
        device_key=device_key,
        timezone=timezone,
        width=width,
        height=height,
        tags=[],
        status={},
        command_seq=0,
        created_at=now,
    )
    screen.groups = list(groups)
    session.add(screen)
    session.flush()
    return screen
