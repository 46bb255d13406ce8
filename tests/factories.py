"""Factories for domain objects, on a real session."""

from __future__ import annotations

import functools
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from server.accounts.models import Membership, Organisation, Role, User
from server.accounts.organisations import create_organisation
from server.assets.models import Asset
from server.assets.uploads import Author, MediaLimits, upload_image
from server.auth.actors import create_api_token, hash_password
from server.campaigns.models import Campaign, CampaignStatus, ScheduleEntry
from server.media.images import DEFAULT_MAX_PIXELS
from server.media.store import MediaStore
from server.playlists.models import Playlist, PlaylistItem

PASSWORD = "correct horse battery"


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class Person:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Province ▸ City ▸ School, and an unrelated Other province; people by role."""

    province: Organisation
    city: Organisation
    school: Organisation
    other: Organisation
    people: dict[str, Person] = field(default_factory=dict)

    @classmethod
    def build(cls, session: Session, now: datetime) -> World:
        province = create_organisation(session, "Province", None, now)
        session.flush()
        city = create_organisation(session, "City", province, now)
        session.flush()
        school = create_organisation(session, "School", city, now)
        other = create_organisation(session, "Other", None, now)
        session.flush()
        world = cls(province, city, school, other)
        for role in Role:
            world.people[role.value] = world.add_person(
                session, f"{role.value}@province.test", province, role, now
            )
        world.people["city_operator"] = world.add_person(
            session, "op@city.test", city, Role.OPERATOR, now
        )
        world.people["outsider"] = world.add_person(
            session, "admin@other.test", other, Role.ADMIN, now
        )
        session.commit()
        return world

    def add_person(
        self, session: Session, email: str, org: Organisation, role: Role, now: datetime
    ) -> Person:
        # Rows built directly with one shared hash: hashing (scrypt) per user made every
        # test that builds a world spend a second or more on it.
        user = User(email=email, name="", password_hash=password_hash(), created_at=now)
        user.memberships.append(Membership(organisation_id=org.id, role=role, organisation=org))
        session.add(user)
        session.flush()
        _, token = create_api_token(session, user, "test", now)
        return Person(user, token)

    def __getitem__(self, key: str) -> Person:
        return self.people[key]


def make_campaign(
    session: Session,
    org: Organisation,
    name: str,
    now: datetime,
    *,
    playlists: Mapping[str, Sequence[tuple[Asset, int]]],
    entries: Sequence[Mapping[str, Any]],
    timezone: str = "Asia/Shanghai",
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
    targets: Mapping[str, Any] | None = None,
    transition: str = "cut",
) -> Campaign:
    """A draft campaign of `playlists` (asset, duration ms); each entry names its playlist
    and any other ScheduleEntry fields. Flushed, not committed."""
    row = Campaign(
        organisation_id=org.id,
        name=name,
        description="",
        timezone=timezone,
        start_date=start,
        end_date=end,
        targets=dict(targets or {"everyone": True}),
        status=CampaignStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    made: dict[str, Playlist] = {}
    for pl_name, items in playlists.items():
        playlist = Playlist(
            organisation_id=org.id,
            campaign_id=row.id,
            name=pl_name,
            description="",
            is_default=False,
            created_at=now,
            updated_at=now,
        )
        playlist.items = [
            PlaylistItem(
                position=i, asset_id=asset.id, asset=asset, duration_ms=ms, transition=transition
            )
            for i, (asset, ms) in enumerate(items)
        ]
        session.add(playlist)
        made[pl_name] = playlist
    session.flush()
    for i, entry in enumerate(entries):
        fields = dict(entry)
        playlist = made[fields.pop("playlist")]
        row.entries.append(
            ScheduleEntry(position=i, playlist_id=playlist.id, playlist=playlist, **fields)
        )
    session.flush()
    return row


def upload(
    session: Session, store: MediaStore, org: Organisation, data: bytes, name: str, now: datetime
) -> Asset:
    """An image asset made the way an operator's upload makes it (commits the session)."""
    limits = MediaLimits(64 * 1024 * 1024, DEFAULT_MAX_PIXELS, ())
    created = upload_image(
        session,
        store,
        org,
        io.BytesIO(data),
        name=name,
        title="",
        now=now,
        limits=limits,
        author=Author(None, "tests"),
    )
    session.commit()
    return created.asset
