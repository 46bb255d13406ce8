"""`signage org list`, `user list`, `audit`, `report plays` and the approval steps, with --json."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from server.accounts.models import Organisation
from server.assets.models import Asset, AssetKind
from server.campaigns.models import Campaign
from server.reports.models import PlayEvent
from server.screens.models import Screen
from tests.conftest import T0
from tests.factories import make_campaign
from tests.server.cli.conftest import Cli


def test_org_list_and_create_with_time_zones(signage: Cli) -> None:
    made = signage.process_json("org", "create", "Hubei", "--timezone", "Asia/Shanghai")
    child = signage.json("org", "create", "Wuhan", "--parent", "Hubei")
    assert (made["timezone"], child["timezone"]) == ("Asia/Shanghai", "Asia/Shanghai")
    orgs = signage.process_json("org", "list")
    assert [o["name"] for o in orgs] == ["Province", "City", "School", "Other", "Hubei", "Wuhan"]
    mine = signage.json("org", "list", "--as", "op@city.test")
    assert [o["name"] for o in mine] == ["City", "School"]
    bad = signage.run("org", "create", "Mars", "--timezone", "Mars/Olympus")
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1
    assert bad.stderr.startswith("signage: unknown time zone 'Mars/Olympus' (timezone: ")


def test_user_list(signage: Cli) -> None:
    users = signage.process_json("user", "list", "--org", "City")
    assert [u["email"] for u in users] == ["op@city.test"]
    assert users[0]["memberships"] == [
        {"organisation_id": users[0]["memberships"][0]["organisation_id"],
         "organisation": "City", "role": "operator"}
    ]  # fmt: skip
    seen_by_outsider = signage.json("user", "list", "--as", "admin@other.test")
    assert [u["email"] for u in seen_by_outsider] == ["admin@other.test"]


def test_audit_lists_what_the_commands_did(signage: Cli) -> None:
    signage.json("group", "create", "lobbies", "--org", "City")
    signage.json("group", "create", "gates", "--org", "Other", "--as", "admin@other.test")
    events = signage.process_json("audit")
    assert [(e["action"], e["object_type"], e["actor"]) for e in events] == [
        ("create", "group", "admin@other.test"),
        ("create", "group", "signage-cli"),
    ]
    assert events[1]["summary"]["after"]["name"] == "lobbies"
    assert events[1]["organisation"] == "City"
    theirs = signage.json("audit", "--as", "admin@other.test")
    assert [e["organisation"] for e in theirs] == ["Other"]
    assert signage.json("audit", "--org", "Province", "--type", "group") == events[1:]


def test_report_plays(signage: Cli) -> None:
    with signage.session() as s:
        gate = s.scalar(select(Screen).where(Screen.name == "Gate"))
        assert gate is not None
        for i in range(3):
            start = T0 - timedelta(hours=1, minutes=i)
            s.add(
                PlayEvent(
                    event_id=f"e{i}",
                    screen_id=gate.id,
                    screen_name="Gate",
                    organisation_id=gate.organisation_id,
                    asset_sha256="d" * 64,
                    asset_title="Poster",
                    playlist="week",
                    campaign="Cyber week",
                    start=start,
                    end=start + timedelta(seconds=10),
                    duration_ms=10_000,
                    received_at=T0,
                )
            )
        s.commit()
    got = signage.process_json("report", "plays", "--group-by", "campaign,screen")
    assert got["plays"] == 3 and got["seconds"] == 30.0
    assert got["rows"] == [
        {"day": None, "campaign": "Cyber week", "playlist": None, "asset_sha256": None,
         "asset_title": None, "screen_id": got["rows"][0]["screen_id"], "screen_name": "Gate",
         "plays": 3, "seconds": 30.0}
    ]  # fmt: skip
    assert got["since"] == (T0 - timedelta(days=7)).isoformat()
    other = signage.json("report", "plays", "--as", "admin@other.test")
    assert other["plays"] == 0


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
