"""What admins see of the fleet: each screen's organisation, online state, last seen, showing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.assets.models import Asset, Variant
from server.config import Settings
from server.screens.models import Screen
from server.screens.services import is_online

UNKNOWN = "unknown"  # what an offline screen shows: nobody knows


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
    offline_since: datetime | None = None  # when it crossed the offline threshold


def showing(
    status: dict[str, Any] | None, titles: Mapping[str, str] | None = None, online: bool = True
) -> str:
    """A short human line for what the player last said it shows: the playlist and the
    asset's title (its hash when untitled); "unknown" for an offline screen."""
    if not online:
        return UNKNOWN
    if not status:
        return ""
    playlist = status.get("playlist")
    asset = status.get("asset")
    parts = []
    if isinstance(playlist, str) and playlist:
        parts.append(playlist[:80])
    if isinstance(asset, str) and asset:
        title = (titles or {}).get(asset) or asset[:12]
        parts.append(f"({title[:80]})" if parts else title[:80])
    return " ".join(parts) if parts else ("idle" if "asset" in status else "")


def asset_titles(session: Session, screens: Iterable[Screen]) -> dict[str, str]:
    """Titles of the assets the screens report showing; a variant's is its source asset's."""
    shas = {
        s.status["asset"]
        for s in screens
        if isinstance(s.status, dict) and isinstance(s.status.get("asset"), str)
    }
    if not shas:
        return {}
    source = {
        sha: src
        for sha, src in session.execute(
            select(Variant.sha256, Variant.source_sha256).where(Variant.sha256.in_(sorted(shas)))
        )
    }
    wanted = sorted({source.get(sha, sha) for sha in shas})
    named: dict[str, str] = {}
    for sha, title, original in session.execute(
        select(Asset.sha256, Asset.title, Asset.original_name)
        .where(Asset.sha256.in_(wanted))
        .order_by(Asset.id)
    ):
        named.setdefault(sha, title or original or "")
    return {sha: named[source.get(sha, sha)] for sha in shas if named.get(source.get(sha, sha))}


def offline_since(last_seen_at: datetime | None, settings: Settings) -> datetime | None:
    """When a screen last seen at `last_seen_at` turned offline (None if never seen)."""
    if last_seen_at is None:
        return None
    return last_seen_at + timedelta(seconds=settings.poll_interval_s * settings.offline_after_polls)


def fleet_select(where: ColumnElement[bool] | None = None) -> Select[Screen, str]:
    """Screens with their organisation's name, by organisation then screen name."""
    stmt = select(Screen, Organisation.name).join(
        Organisation, Organisation.id == Screen.organisation_id
    )
    if where is not None:
        stmt = stmt.where(where)
    return stmt


def fleet_row(
    screen: Screen,
    org_name: str,
    now: datetime,
    settings: Settings,
    titles: Mapping[str, str] | None = None,
) -> FleetRow:
    status = screen.status if isinstance(screen.status, dict) else {}
    version = status.get("player_version")
    online = is_online(screen.last_seen_at, now, settings)
    return FleetRow(
        id=screen.id,
        name=screen.name,
        organisation=org_name,
        online=online,
        last_seen_at=screen.last_seen_at,
        showing=showing(status, titles, online),
        player_version=version[:40] if isinstance(version, str) else "",
        paired=screen.device_token_hash is not None,
        offline_since=None if online else offline_since(screen.last_seen_at, settings),
    )
