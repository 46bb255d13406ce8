"""Content on a real server for tests: images, campaigns and publications through the
server's own services, enrolment tokens and screens through its operator API."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from PIL import Image

from tests.integration.conftest import ServerProcess

TIMEOUT = 10
SHANGHAI = "Asia/Shanghai"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def noise_png(seed: int, size: tuple[int, int]) -> bytes:
    """Random pixels: PNG cannot compress them, so the file is about 3 bytes a pixel."""
    pixels = random.Random(seed).randbytes(size[0] * size[1] * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(out, "PNG", compress_level=1)
    return out.getvalue()


def server_now(server: ServerProcess) -> datetime:
    """The server's clock, read the way the server reads it."""
    from server.clock import FileClock

    return FileClock(server.clock_file).now()


def morning_in_shanghai(server: ServerProcess) -> tuple[date, date, datetime]:
    """Run the server's clock from 10:00 today in Shanghai, whatever the real hour: (today,
    tomorrow, the midnight between them as a UTC instant)."""
    zone = ZoneInfo(SHANGHAI)
    real = datetime.now(UTC)
    server.set_clock(datetime.combine(real.astimezone(zone).date(), time(10), zone) - real)
    today = server_now(server).astimezone(zone).date()
    tomorrow = today + timedelta(days=1)
    return today, tomorrow, datetime.combine(tomorrow, time(0), zone).astimezone(UTC)


@dataclass
class Content:
    """Images, campaigns and publications on one server, through its services and API."""

    server: ServerProcess
    organisation_id: int
    headers: dict[str, str]

    def now(self) -> datetime:
        return server_now(self.server)

    def image(self, data: bytes, name: str = "poster.png") -> int:
        """Import an image as an operator's upload would; the asset's id."""
        from server.accounts.models import Organisation
        from tests.factories import upload

        with self.server.session() as session:
            org = session.get(Organisation, self.organisation_id)
            assert org is not None
            return int(upload(session, self.server.store(), org, data, name, self.now()).id)

    def campaign(
        self,
        name: str,
        playlists: Mapping[str, Sequence[tuple[int, int]]],
        entries: Sequence[Mapping[str, Any]],
        *,
        timezone: str = SHANGHAI,
        start: date | None = None,
        end: date | None = None,
        transition: str = "cut",
    ) -> int:
        """A draft campaign: playlists of (asset id, duration ms); entries name a playlist."""
        from server.accounts.models import Organisation
        from server.assets.models import Asset
        from tests.factories import make_campaign

        now = self.now()
        today = now.date()
        with self.server.session() as session:
            org = session.get(Organisation, self.organisation_id)
            assert org is not None

            def asset(asset_id: int) -> Asset:
                found = session.get(Asset, asset_id)
                assert found is not None, asset_id
                return found

            row = make_campaign(
                session,
                org,
                name,
                now,
                playlists={
                    pl: [(asset(a), ms) for a, ms in items] for pl, items in playlists.items()
                },
                entries=entries,
                timezone=timezone,
                start=start or today - timedelta(days=7),
                end=end or today + timedelta(days=30),
                transition=transition,
            )
            return int(row.id)

    def publish(self, campaign_id: int) -> datetime:
        """Publish through the workflow (as an approver would); the instant it takes effect."""
        from server.campaigns import workflow
        from server.campaigns.models import Campaign

        with self.server.session() as session:
            row = session.get(Campaign, campaign_id)
            assert row is not None
            publication = workflow.publish(
                session, row, workflow.SYSTEM, self.now(), self.server.settings()
            )
            return publication.effective_at.astimezone(UTC)

    def archive(self, campaign_id: int) -> None:
        from server.campaigns import workflow
        from server.campaigns.models import Campaign

        with self.server.session() as session:
            row = session.get(Campaign, campaign_id)
            assert row is not None
            workflow.archive(session, row, workflow.SYSTEM, self.now(), self.server.settings())

    def enrolment_token(self, max_uses: int = 10, timezone: str = SHANGHAI) -> str:
        """A new enrolment token for the organisation, over the operator API."""
        expires = (self.now() + timedelta(days=30)).isoformat()
        r = requests.post(
            self.server.url(f"/api/v1/organisations/{self.organisation_id}/enrolment-tokens"),
            json={"expires_at": expires, "max_uses": max_uses, "timezone": timezone},
            headers=self.headers,
            timeout=TIMEOUT,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["token"])

    def screen(self, screen_id: int) -> dict[str, Any]:
        """The operator's view of a screen (GET /api/v1/screens/{id})."""
        r = requests.get(
            self.server.url(f"/api/v1/screens/{screen_id}"), headers=self.headers, timeout=TIMEOUT
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def deliver(self, asset_id: int, screen: tuple[int, int], fit: str = "contain") -> str:
        """The SHA-256 of what a screen of that size downloads for an asset (rendered now,
        as the first poll would)."""
        from server.assets.models import Asset
        from server.assets.variants import deliver
        from server.media.profiles import parse_profiles

        settings = self.server.settings()
        with self.server.session() as session:
            asset = session.get(Asset, asset_id)
            assert asset is not None
            delivered = deliver(
                session,
                self.server.store(),
                asset,
                *screen,
                fit,
                profiles=parse_profiles(settings.screen_profiles),
                now=self.now(),
            )
            return delivered.sha256

    def damaged_rendering(self, asset_id: int, profile: str, data: bytes) -> str:
        """Make `data` the asset's rendering for `profile` (as a faulty renderer or a bad
        disk might have left it): the server serves it as the poster; its SHA-256."""
        from server.assets.models import Asset, Variant

        sha = self.server.store().put_bytes(data)
        width, height = (int(v) for v in profile.split("x"))
        with self.server.session() as session:
            asset = session.get(Asset, asset_id)
            assert asset is not None
            session.add(
                Variant(
                    source_sha256=asset.sha256,
                    profile=profile,
                    fit="contain",
                    background="#000000",
                    sha256=sha,
                    media_type="image/png",
                    size=len(data),
                    width=width,
                    height=height,
                    created_at=self.now(),
                )
            )
        return str(sha)
