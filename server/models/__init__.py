"""ORM models by domain; importing this package registers every table on `Base.metadata`."""

from server.models.accounts import ApiToken, Membership, Organisation, Role, User
from server.models.activity import AuditEvent, Command, PlayEvent, Screenshot
from server.models.base import Base, UTCDateTime
from server.models.content import Asset, AssetKind, Playlist, PlaylistItem, Variant
from server.models.fleet import EnrolmentToken, Group, GroupMember, Pairing, Screen
from server.models.jobs import JobLease, JobRun
from server.models.scheduling import Campaign, CampaignStatus, Publication, ScheduleEntry

__all__ = [
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
    "Role",
    "ScheduleEntry",
    "Screen",
    "Screenshot",
    "User",
    "UTCDateTime",
    "Variant",
]
