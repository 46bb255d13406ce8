"""What admins see of the fleet: each screen's organisation, online state, last seen, showing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select

from server.accounts.models import Organisation
from server.config import Settings
from server.screens.heartbeats import clean_status
from server.screens.models import Screen
from server.screens.services import is_online


@dataclass(frozen=True)
class FleetRow:
    id: int
    name: str
    organisation: str
    online: bool
    last_seen_at: datetime | None
    showing: str
    player_version: str
    paired: bool


def showing(status: dict[str, Any] | None) -> str:
    """A short human line for what the player last said it shows."""
    if not status:
        return ""
    playlist = status.get("playlist")
    asset = status.get("asset")
    parts = []
    if isinstance(playlist, str) and playlist:
        parts.append(playlist[:80])
    if isinstance(asset, str) and asset:
        parts.append(f"({asset[:12]})" if parts else asset[:12])
    return " ".join(parts) if parts else ("idle" if "asset" in status else "")


def fleet_select(where: ColumnElement[bool] | None = None) -> Select[Screen, str]:
    """Screens with their organisation's name, by organisation then screen name."""
    stmt = select(Screen, Organisation.name).join(
        Organisation, Organisation.id == Screen.organisation_id
    )
    if where is not None:
        stmt = stmt.where(where)
    return stmt


def fleet_row(screen: Screen, org_name: str, now: datetime, settings: Settings) -> FleetRow:
    status = clean_status(screen.status)
    version = status.get("player_version")
    return FleetRow(
        id=screen.id,
        name=screen.name,
        organisation=org_name,
        online=is_online(screen.last_seen_at, now, settings),
        last_seen_at=screen.last_seen_at,
        showing=showing(status),
        player_version=version[:40] if isinstance(version, str) else "",
        paired=screen.device_token_hash is not None,
    )
