"""`signage group|screen|enrolment-token|screens`, each with --json, on a real instance."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.assets.models import Asset, AssetKind
from server.auth.actors import token_digest
from server.auth.models import AuditEvent
from server.cli import display_width
from server.screens import joining
from server.screens.models import EnrolmentToken, Screen
from server.screens.placement import Hello
from tests.conftest import T0
from tests.server.signage_cli import Cli


def test_group_commands_through_the_real_entry_point(signage: Cli) -> None:
    created = signage.process_json("group", "create", "lobbies", "--org", "City")
    assert created["name"] == "lobbies" and created["organisation"] == "City"
    assert created["parent_id"] is None
    inner = signage.json("group", "create", "north", "--org", "City", "--parent", "lobbies")
    assert inner["parent_id"] == created["id"]
    renamed = signage.json("group", "rename", "north", "north-wing")
    assert renamed["name"] == "north-wing" and renamed["id"] == inner["id"]
    moved = signage.json("group", "move", "north-wing", "--top")
    assert moved["parent_id"] is None
    moved = signage.json("group", "move", str(inner["id"]), "--into", "bank-branches")
    assert moved["parent_id"] is not None
    listed = signage.process_json("group", "list", "--org", "City")
    assert sorted(g["name"] for g in listed) == ["bank-branches", "lobbies", "north-wing"]
    refused = signage.run("group", "delete", "bank-branches")  # it holds north-wing now
    assert refused.exit_code == 1
    assert refused.stderr.count("\n") == 1 and "sub-groups" in refused.stderr
    deleted = signage.json("group", "delete", "north-wing")
    assert deleted == {**moved, "name": "north-wing", "deleted": True}
    with signage.session() as s:
        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.object_type == "group")
        ).all()
    assert actions == ["create", "create", "update", "update", "update", "delete"]


def test_group_commands_respect_the_acting_user(signage: Cli) -> None:
    refused = signage.run("group", "create", "x", "--org", "City", "--as", "viewer@province.test")
    assert refused.exit_code == 1 and "needs the operator role" in refused.stderr
    outsider = signage.json("group", "list", "--as", "admin@other.test")
    assert outsider == []


def test_screen_create_show_edit_revoke(signage: Cli) -> None:
    made = signage.process_json(
        "screen", "create", "Hall 2", "--org", "School", "--tag", "ground", "--width", "1080",
        "--height", "1920",
    )  # fmt: skip
    assert made["organisation"] == "School" and made["tags"] == ["ground"]
    assert made["orientation"] == "portrait" and made["paired"] is False
    assert made["timezone"] == "UTC"  # the organisation's zone (the World's are UTC)
    shown = signage.json("screen", "show", "hall 2")  # any case
    assert shown["id"] == made["id"]
    edited = signage.json(
        "screen", "edit", "Hall 2", "--timezone", "Asia/Shanghai", "--no-tags", "--location", "Gym"
    )
    assert (edited["timezone"], edited["tags"], edited["location"]) == (
        "Asia/Shanghai",
        [],
        "Gym",
    )
    listed = signage.json("screen", "list", "--org", "School")
    assert [s["name"] for s in listed] == ["Gate", "Hall 2"]
    bad = signage.run("screen", "edit", "Hall 2", "--timezone", "Asia/Shangai")
    assert bad.exit_code == 1
    assert bad.stderr == "signage: unknown time zone 'Asia/Shangai' (timezone: unknown zone)\n" or (
        bad.stderr.startswith("signage: unknown time zone 'Asia/Shangai' (timezone:")
        and bad.stderr.count("\n") == 1
    )
    with signage.session() as s:
        screen = s.get(Screen, made["id"])
        assert screen is not None
        screen.device_token_hash = token_digest("sgd_x")
        s.commit()
    assert signage.json("screen", "show", str(made["id"]))["paired"] is True
    revoked = signage.process_json("screen", "revoke", "Hall 2")
    assert revoked["paired"] is False


def test_screen_pair_by_code_takes_the_organisations_zone(signage: Cli) -> None:
    signage.json("org", "create", "Wuhan", "--timezone", "Asia/Shanghai")
    branch = signage.json("org", "create", "Wuhan bank", "--parent", "Wuhan")
    assert branch["timezone"] == "Asia/Shanghai"  # inherited
    with signage.session() as s:
        waiting = joining.hello(s, Hello(hardware_id="hw-1", width=1920, height=1080), T0)
        s.commit()
    assert waiting.pairing_code
    paired = signage.json(
        "screen", "pair", waiting.pairing_code.lower(), "--org", "Wuhan bank", "--name", "大厅"
    )
    assert paired["name"] == "大厅" and paired["timezone"] == "Asia/Shanghai"
    again = signage.run("screen", "pair", waiting.pairing_code, "--org", "Wuhan bank")
    assert again.exit_code == 1 and "no screen is waiting" in again.stderr


def test_enrolment_token_create_list_revoke(signage: Cli) -> None:
    created = signage.process_json("enrolment-token", "create", "--org", "City", "--uses", "40")
    assert created["token"].startswith("sge_") and created["max_uses"] == 40
    assert created["expires_at"] == (T0 + timedelta(days=7)).isoformat()
    with signage.session() as s:
        row = s.get(EnrolmentToken, created["id"])
        assert row is not None and row.token_hash == token_digest(created["token"])
    listed = signage.json("enrolment-token", "list", "--org", "City")
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]  # the secret is shown once only
    plain = signage.run("enrolment-token", "create", "--org", "City", "--uses", "1")
    assert plain.exit_code == 0 and plain.stdout.startswith("sge_")
    assert plain.stdout.count("\n") == 1  # only the secret on stdout, for scripts
    revoked = signage.json("enrolment-token", "revoke", str(created["id"]))
    assert revoked["revoked_at"] == T0.isoformat()
    viewer = signage.run("enrolment-token", "list", "--org", "City", "--as", "op@city.test")
    assert viewer.exit_code == 1 and "needs the admin role" in viewer.stderr


def test_screens_shows_absolute_times_offline_since_titles_and_aligns_chinese(
    signage: Cli,
) -> None:
    with signage.session() as s:
        lobby = s.scalar(select(Screen).where(Screen.name == "Lobby"))
        gate = s.scalar(select(Screen).where(Screen.name == "Gate"))
        assert lobby is not None and gate is not None
        lobby.name = "银行大厅"
        lobby.last_seen_at = T0 - timedelta(seconds=10)
        lobby.status = {"playlist": "week", "asset": "a" * 64}
        gate.last_seen_at = T0 - timedelta(hours=2)
        gate.status = {"playlist": "week", "asset": "b" * 64}
        s.commit()
    rows = signage.process_json("screens")["screens"]
    by_name = {r["name"]: r for r in rows}
    assert by_name["银行大厅"]["online"] is True and by_name["银行大厅"]["offline_since"] is None
    assert by_name["Gate"]["showing"] == "unknown"  # offline: nobody knows, not "idle"
    assert by_name["Gate"]["offline_since"] == (
        T0 - timedelta(hours=2) + timedelta(seconds=90)
    ).isoformat()
    assert by_name["Bank hall"]["last_seen_at"] is None
    text = signage.run("screens")
    assert text.exit_code == 0
    lines = text.stdout.splitlines()
    assert "2026-01-05 08:59:50Z (10s ago)" in text.stdout
    assert "2026-01-05 07:01:30Z (1h ago)" in text.stdout  # offline since
    header, rows_text = lines[0], lines[1:-1]
    start = header.index("STATE")
    for line in rows_text:  # the STATE column starts at the same display column on each row
        cut = next(i for i in range(len(line) + 1) if display_width(line[:i]) == start)
        assert line[cut:].split()[0] in ("online", "offline"), line


def test_screens_shows_asset_titles_not_hashes(signage: Cli) -> None:
    with signage.session() as s:
        gate = s.scalar(select(Screen).where(Screen.name == "Gate"))
        assert gate is not None
        gate.last_seen_at = T0
        gate.status = {"playlist": "week", "asset": "c" * 64}
        s.add(
            Asset(
                organisation_id=gate.organisation_id,
                sha256="c" * 64,
                kind=AssetKind.IMAGE,
                title="网络安全为人民",
                original_name="poster.png",
                media_type="image/png",
                size=1,
                width=1,
                height=1,
                created_at=T0,
            )
        )
        s.commit()
    rows = signage.json("screens", "--state", "online")["screens"]
    assert [(r["name"], r["showing"]) for r in rows] == [("Gate", "week (网络安全为人民)")]
