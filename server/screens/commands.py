"""Commands to one screen: queued by operators, delivered in its manifest, acknowledged by it."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.errors import FieldError, NotFound, ValidationFailed
from server.screens.models import Command, Screen

KINDS: Final = ("refresh", "screenshot", "restart")
MAX_DETAIL: Final = 500


def _bump(session: Session, screen_id: int) -> None:
    # The screen's next poll sees a new ETag and so fetches the changed command list.
    session.execute(
        update(Screen)
        .where(Screen.id == screen_id)
        .values(command_seq=Screen.command_seq + 1)
        .execution_options(synchronize_session=False)
    )


def queue_command(
    session: Session, screen: Screen, kind: str, now: datetime, issued_by_id: int | None
) -> Command:
    if kind not in KINDS:
        raise ValidationFailed(
            f"unknown command {kind!r}", [FieldError("kind", f"one of: {', '.join(KINDS)}")]
        )
    command = Command(
        screen_id=screen.id, kind=kind, issued_at=now, issued_by_id=issued_by_id, detail=""
    )
    session.add(command)
    session.flush()
    _bump(session, screen.id)
    return command


def pending_commands(session: Session, screen_id: int) -> list[Command]:
    """Unacknowledged commands, oldest first."""
    return list(
        session.scalars(
            select(Command)
            .where(Command.screen_id == screen_id, Command.acked_at.is_(None))
            .order_by(Command.id)
        )
    )


def acknowledge(
    session: Session, screen_id: int, command_id: int, ok: bool, detail: str, now: datetime
) -> Command:
    """Mark a command done; a second acknowledgement changes nothing."""
    command = session.get(Command, command_id)
    if command is None or command.screen_id != screen_id:
        raise NotFound(f"no command {command_id} for this screen")
    if command.acked_at is None:
        command.acked_at = now
        command.ok = ok
        command.detail = detail[:MAX_DETAIL]
        _bump(session, screen_id)
    return command
