"""How a player without a token joins: by a pairing code an operator claims
(`server.screens.pairing`) or by an enrolment token (`server.screens.enrolment`); both land
the screen through `server.screens.placement`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.screens import enrolment, pairing
from server.screens.placement import Hello, HelloOutcome


def hello(session: Session, request: Hello, now: datetime) -> HelloOutcome:
    """Answer a hello (docs/player-protocol.md §1); the caller commits."""
    if request.enrol_token is not None:
        return enrolment.enrol(session, request, now)
    return pairing.answer(session, request, now)
