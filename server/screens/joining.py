"""How a player without a token joins: by a pairing code an operator claims
(`server.screens.pairing`) or by an enrolment token (`server.screens.enrolment`); both land
the screen through `server.screens.placement`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from server.auth.limits import Limit
from server.config import Settings
from server.screens import enrolment, keys, pairing
from server.screens.placement import Hello, HelloOutcome

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
