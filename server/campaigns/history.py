"""Why a campaign is a draft again: the reason kept on it, read back into its parts (what was
edited, by whom, when) so a page can say it in the reader's language and name the playlist."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.models import AuditEvent
from server.campaigns.models import Campaign, CampaignStatus
from server.playlists.models import Playlist

# The reasons `workflow.playlist_edited` and `services._edited` write (the playlist's name,
# in parentheses, since the name is also kept in the audit event).
_PLAYLIST: Final = re.compile(r"^playlist (\d+)(?: \(.*\))? (items changed|renamed) by (.+)$")
_CAMPAIGN: Final = re.compile(r"^campaign edited by (.+)$")
_LOOK_BACK: Final = 50
_REVIEW_STEPS: Final = ("submit", "approve", "publish", "archive")


@dataclass(frozen=True)
class DraftWhy:
    """`kind`: "items", "renamed", "campaign", "sent_back" (an approver's comment is the
    reason), or "other" (then only `reason` is known)."""

    kind: str
    reason: str
    who: str = ""
    when: datetime | None = None
    playlist: str = ""


def why_draft(session: Session, campaign: Campaign) -> DraftWhy | None:
    """Why a reviewed campaign went back to draft, or None when it is not such a draft."""
    reason = campaign.draft_reason
    if campaign.status is not CampaignStatus.DRAFT or not reason:
        return None
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "campaign", AuditEvent.object_id == str(campaign.id))
        .order_by(AuditEvent.id.desc())
        .limit(_LOOK_BACK)
    ).all()
    returned = next(
        (
            e
            for e in events
            if e.action in ("back_to_draft", "send_back")
            and e.summary.get("after", {}).get("reason") == reason
        ),
        None,
    )
    if returned is not None and returned.action == "send_back":
        return DraftWhy(kind="sent_back", reason=reason, who=returned.actor, when=returned.at)
    if found := _PLAYLIST.match(reason):
        after = returned.summary.get("after", {}) if returned is not None else {}
        playlist = session.get(Playlist, int(found.group(1)))
        name = after.get("playlist") or (playlist.name if playlist is not None else "")
        return DraftWhy(
            kind="items" if found.group(2) == "items changed" else "renamed",
            reason=reason,
            who=found.group(3),
            when=returned.at if returned is not None else None,
            playlist=name or f"#{found.group(1)}",
        )
    if found := _CAMPAIGN.match(reason):
        who = found.group(1)
        return DraftWhy(kind="campaign", reason=reason, who=who, when=_first_edit(events, who))
    return DraftWhy(kind="other", reason=reason)


def _first_edit(events: Sequence[AuditEvent], who: str) -> datetime | None:
    """The first edit by `who` since the campaign was last reviewed (events newest first)."""
    first = None
    for event in events:
        if event.action in _REVIEW_STEPS:
            break
        if event.action == "update" and event.actor == who:
            first = event.at
    return first
