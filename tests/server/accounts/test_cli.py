"""`signage org create|list`, `user list` and `audit`, with --json, on a real instance."""

from __future__ import annotations

from tests.server.signage_cli import Cli


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
