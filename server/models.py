"""Every table, registered on `Base.metadata`: for Alembic, the app factory and tests.

Domain code imports its models from its own domain (`server.screens.models`, …), never from
here: this module imports every domain, so importing it from a domain would tie them all.
"""

from server.accounts.models import ApiToken, Membership, Organisation, Role, User
from server.alerts.models import AlertChannel, AlertRule, Incident, Notification
from server.assets.models import Asset, AssetKind, Variant
from server.auth.models import AuditEvent, RateCounter
from server.campaigns.models import Campaign, CampaignStatus, Publication, ScheduleEntry
from server.db import Base, UTCDateTime
from server.jobs.models import JobLease, JobRun
from server.playlists.models import Playlist, PlaylistItem
from server.reports.models import PlayEvent
from server.screens.models import (
    Command,
    EnrolmentToken,
    Group,
    GroupMember,
    Pairing,
    Screen,
    Screenshot,
)

__all__ = [
    "AlertChannel",
    "AlertRule",
    "Incident",
    "Notification",
    "ApiToken",
    "Asset",
    "AssetKind",
    "AuditEvent",
    "Base",
    "Campaign",
    "CampaignStatus",
    "Command",
    "EnrolmentToken",
    "Group",
    "GroupMember",
    "JobLease",
    "JobRun",
    "Membership",
    "Organisation",
    "Pairing",
    "PlayEvent",
    "Playlist",
    "PlaylistItem",
    "Publication",
    "RateCounter",
    "Role",
    "ScheduleEntry",
    "Screen",
    "Screenshot",
    "User",
    "UTCDateTime",
    "Variant",
]
