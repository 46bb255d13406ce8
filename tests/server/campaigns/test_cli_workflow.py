"""`signage campaign submit|approve|publish|archive --json` on a real instance."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from server.accounts.models import Organisation
from server.assets.models import Asset, AssetKind
from server.campaigns.models import Campaign
from tests.conftest import T0
from tests.factories import make_campaign
from tests.server.signage_cli import Cli


def test_campaign_submit_approve_publish_archive(signage: Cli) -> None:
    with signage.session() as s:
        city = s.scalar(select(Organisation).where(Organisation.name == "City"))
        assert city is not None
        asset = Asset(
            organisation_id=city.id,
            sha256="e" * 64,
            kind=AssetKind.IMAGE,
            media_type="image/png",
            size=1,
            width=1920,
            height=1080,
            created_at=T0,
        )
        s.add(asset)
        s.flush()
        make_campaign(
            s, city, "Cyber week", T0, playlists={"week": [(asset, 10_000)]},
            entries=[{"playlist": "week"}],
        )  # fmt: skip
        s.commit()
    submitted = signage.process_json("campaign", "submit", "Cyber week", "--as", "op@city.test")
    assert submitted["status"] == "submitted"
    own = signage.run("campaign", "approve", "Cyber week", "--as", "op@city.test")
    assert own.exit_code == 1 and "needs the approver role" in own.stderr
    approved = signage.json("campaign", "approve", "Cyber week", "--as", "approver@province.test")
    assert approved["status"] == "approved"
    published = signage.json("campaign", "publish", str(approved["id"]))
    assert published["status"] == "published" and published["live"] is True
    effective = datetime.fromisoformat(published["effective_at"])
    assert effective == T0 + timedelta(seconds=60)  # one poll interval and the margin
    archived = signage.process_json("campaign", "archive", "Cyber week")
    assert archived["status"] == "archived" and archived["live"] is False
    again = signage.run("campaign", "archive", "Cyber week")
    assert again.exit_code == 1 and again.stderr == (
        "signage: the campaign is already archived (status: archived)\n"
    )
    with signage.session() as s:
        row = s.scalar(select(Campaign).where(Campaign.name == "Cyber week"))
        assert row is not None and row.approved_by_id is not None
