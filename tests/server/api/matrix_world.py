"""The seeded world of the authorisation matrix: makers of fresh objects of our tree.

Every object is named with MARK, so a response can be searched for anything of ours.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from server import storage
from server.accounts.models import Membership, Organisation, Role
from server.accounts.organisations import create_organisation
from server.accounts.users import add_user
from server.api.registry import API_PREFIX
from server.auth.actors import create_api_token, token_digest
from server.campaigns.models import Campaign, CampaignStatus
from server.campaigns.snapshot import campaign_snapshot
from server.reports.models import PlayEvent
from server.screens.models import EnrolmentToken, Pairing, Screen, Screenshot
from tests.server.api import objects

MARK = "owned-by-province"
# Strings only our tree's data contains; an outsider's list must show none of them.
LEAKS = (MARK, "province.test", "city.test", '"Province"', '"City"', '"School"')


@dataclass
class Call:
    """One request: path parameters, and a JSON body, query or multipart form."""

    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    form: Callable[[], dict[str, Any]] | None = None  # fresh file objects per request


@dataclass
class Ctx:
    """The seeded world plus makers of fresh objects of our tree (each named with MARK)."""

    client: FlaskClient
    session: Session
    world: Any
    app: Flask
    counter: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def now(self) -> Any:
        return self.world.province.created_at

    def name(self, kind: str) -> str:
        return f"{MARK} {kind} {next(self.counter)}"

    def screen(self) -> Screen:
        return objects.screen(self.session, self.world.school, self.name("screen"), self.now)

    def group(self) -> Any:
        return objects.group(self.session, self.world.school, self.name("group"), self.now)

    def asset(self) -> Any:
        return objects.asset(self.session, self.world.school, self.name("asset"), self.now)

    def playlist(self, campaign: Campaign | None = None) -> Any:
        return objects.playlist(
            self.session,
            self.world.school,
            self.name("playlist"),
            self.now,
            assets=[self.asset()],
            campaign=campaign,
        )

    def campaign(self, status: CampaignStatus = CampaignStatus.DRAFT, entries: int = 1) -> Any:
        row = objects.campaign(self.session, self.world.school, self.name("campaign"), self.now)
        for _ in range(entries):
            objects.schedule(self.session, row, self.playlist())
        row.status = status
        if status is not CampaignStatus.DRAFT:
            row.submitted_by_id = self.world["operator"].user.id
        if status is CampaignStatus.APPROVED:
            self.session.refresh(row)
            row.approved_snapshot = campaign_snapshot(row)
        self.session.commit()
        return row

    def user(self, *extra_orgs: Organisation) -> Any:
        email = f"{next(self.counter)}@{MARK}.city.test"
        user = add_user(
            self.session, email, "long enough secret", self.world.school, Role.VIEWER, self.now
        )
        for org in extra_orgs:
            user.memberships.append(Membership(organisation_id=org.id, role=Role.VIEWER))
        self.session.commit()
        return user

    def token(self) -> int:
        """A token of one of School's users."""
        row, _ = create_api_token(self.session, self.user(), MARK, self.now)
        self.session.commit()
        return row.id

    def organisation(self) -> Organisation:
        org = create_organisation(self.session, self.name("unit"), self.world.school, self.now)
        self.session.commit()
        return org

    def enrolment_token(self) -> int:
        row = EnrolmentToken(
            organisation_id=self.world.school.id,
            token_hash=token_digest(self.name("enrol")),
            name=MARK,
            expires_at=self.now + timedelta(days=1),
            created_at=self.now,
        )
        self.session.add(row)
        self.session.commit()
        return row.id

    def pairing(self) -> str:
        code = "ABCDE" + "FGHJKMNPQRSTUVWXYZ"[next(self.counter) % 18]
        self.session.add(
            Pairing(
                hardware_id=self.name("hw"),
                code=code,
                created_at=self.now,
                expires_at=self.now + timedelta(hours=1),
            )
        )
        self.session.commit()
        return code

    def screenshot(self) -> Screen:
        screen = self.screen()
        with self.app.app_context():
            sha = storage.get_store().put_bytes(png())
        self.session.add(
            Screenshot(
                screen_id=screen.id,
                sha256=sha,
                media_type="image/png",
                width=8,
                height=8,
                taken_at=self.now,
            )
        )
        self.session.commit()
        return screen

    def play(self) -> None:
        screen = self.screen()
        self.session.add(
            PlayEvent(
                event_id=self.name("event"),
                screen_id=screen.id,
                screen_name=screen.name,
                organisation_id=screen.organisation_id,
                asset_sha256="0" * 64,
                asset_title=MARK,
                start=self.now - timedelta(hours=1),
                end=self.now - timedelta(hours=1) + timedelta(seconds=10),
                duration_ms=10_000,
                received_at=self.now,
            )
        )
        self.session.commit()

    def uploaded(self) -> int:
        """An image asset uploaded through the API (so its bytes are in the store)."""
        r = self.client.post(
            f"{API_PREFIX}/assets",
            data=upload_form(self.world.school.id)(),
            headers=self.world["admin"].headers,
        )
        assert r.status_code in (200, 201), r.json
        return int(r.json["id"])


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def upload_form(org_id: int) -> Callable[[], dict[str, Any]]:
    return lambda: {"file": (io.BytesIO(png()), f"{MARK}.png"), "organisation_id": str(org_id)}
