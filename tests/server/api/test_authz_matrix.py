"""Who may call what: a table written by hand, one row per operator route, role × relation.

Our objects live in School (Province ▸ City ▸ School). Each route is called by a user of each
role (viewer, operator, approver, admin) in each relation to School:
- same: a member of School;
- parent: a member of City, acting on a child organisation;
- child: a member of Class (below School), acting on the parent's objects;
- sibling: a member of Sibling (beside School, under City);
- outsider: a member of Other, another tree.

The expected status of each cell comes from the row's GRID, written by hand: it is never
derived from the route's declared policy, so a wrong declaration fails here. Lists must show
our rows exactly where the grid says "ok" and the relation sees School, and none elsewhere.
Every refused write is checked to have changed nothing: the same rows in every table (audit
events included).

A new operator route fails `test_every_operator_operation_has_a_row` until it gets a row.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import Role
from server.accounts.organisations import create_organisation
from server.alerts.models import AlertChannel, AlertKind, AlertRule, ChannelKind, Incident
from server.api.registry import API_PREFIX, api
from server.assets.models import Asset
from server.auth.actors import DEVICE_TOKEN_PREFIX, new_token, token_digest
from server.auth.policy import Audience
from server.campaigns.models import CampaignStatus
from server.db import Base
from server.screens.models import Command
from tests.server.api import objects
from tests.server.api.matrix_world import LEAKS, MARK, Call, Ctx, png, upload_form

RELATIONS = ("same", "parent", "child", "sibling", "outsider")
ROLES = (Role.VIEWER, Role.OPERATOR, Role.APPROVER, Role.ADMIN)
OK = "ok"  # any 2xx
Cells = tuple[str, str, str, str]  # viewer, operator, approver, admin
Grid = dict[str, Cells]


def grid(same: Cells, parent: Cells, child: Cells, sibling: Cells, outsider: Cells) -> Grid:
    return dict(zip(RELATIONS, (same, parent, child, sibling, outsider), strict=True))


ALL: Cells = (OK, OK, OK, OK)
HIDDEN: Cells = ("404", "404", "404", "404")
# Writes: a viewer everywhere is refused before anything is looked up (403); a stronger role
# outside School's subtree does not see the object (404).
OPERATOR: Cells = ("403", OK, OK, OK)
OPERATOR_OUT: Cells = ("403", "404", "404", "404")
APPROVER: Cells = ("403", "403", OK, OK)
APPROVER_OUT: Cells = ("403", "403", "404", "404")
ADMIN: Cells = ("403", "403", "403", OK)
ADMIN_OUT: Cells = ("403", "403", "403", "404")

READ = grid(ALL, ALL, HIDDEN, HIDDEN, HIDDEN)
READ_DOWN = grid(ALL, ALL, ALL, HIDDEN, HIDDEN)  # content flows down to the child
WRITE = grid(OPERATOR, OPERATOR, OPERATOR_OUT, OPERATOR_OUT, OPERATOR_OUT)
APPROVE = grid(APPROVER, APPROVER, APPROVER_OUT, APPROVER_OUT, APPROVER_OUT)
ADMINISTER = grid(ADMIN, ADMIN, ADMIN_OUT, ADMIN_OUT, ADMIN_OUT)
# Assets and groups of an ancestor are the child's to use (a province poster in a school's
# playlist, a city group as a target) but not to change: refused as read-only, 403.
READ_ONLY: Cells = ("403", "403", "403", "403")
WRITE_DOWN = grid(OPERATOR, OPERATOR, READ_ONLY, OPERATOR_OUT, OPERATOR_OUT)
# Choosing a default playlist: approvers in scope; operators in scope 403, out of scope 404.
DEFAULT_PLAYLIST = grid(APPROVER, APPROVER, OPERATOR_OUT, OPERATOR_OUT, OPERATOR_OUT)
ANYONE = grid(ALL, ALL, ALL, ALL, ALL)
ADMINS_ONLY = grid(ADMIN, ADMIN, ADMIN, ADMIN, ADMIN)
# Someone else's API token: its owner's admin may revoke it; anyone else is told "no token".
TOKEN = grid(("404", "404", "404", OK), ("404", "404", "404", OK), HIDDEN, HIDDEN, HIDDEN)


@dataclass(frozen=True)
class Row:
    build: Callable[[Ctx], Call]
    grid: Grid
    # For lists: the relations whose answer must show our rows (all others must not).
    shows: tuple[str, ...] | None = None


def listing(
    seed: Callable[[Ctx], object],
    query: dict[str, Any] | None = None,
    grid_: Grid = ANYONE,
    shows: tuple[str, ...] = ("same", "parent"),
) -> Row:
    """A list route: seed one of our rows first, so the lists that should show it do."""

    def build(c: Ctx) -> Call:
        seed(c)
        return Call(query=dict(query or {}))

    return Row(build, grid_, shows)


def alert_incident(c: Ctx) -> int:
    screen = c.screen()
    row = Incident(
        screen_id=screen.id,
        organisation_id=screen.organisation_id,
        kind=AlertKind.OFFLINE,
        since=c.now,
        opened_at=c.now,
        detail=MARK,
    )
    c.session.add(row)
    c.session.commit()
    return row.id


def alert_rule(c: Ctx) -> int:
    row = AlertRule(organisation_id=c.organisation().id, kind=AlertKind.OFFLINE, created_at=c.now)
    c.session.add(row)
    c.session.commit()
    return row.id


def alert_channel(c: Ctx) -> int:
    row = AlertChannel(
        organisation_id=c.world.school.id,
        name=c.name("channel"),
        kind=ChannelKind.WEBHOOK,
        target="https://hooks.example.test/signage",
        secret="a secret of sixteen or more",
        created_at=c.now,
    )
    c.session.add(row)
    c.session.commit()
    return row.id


CAMPAIGN_FILE = f"""campaign: {MARK} week
organisation: School
timezone: Asia/Shanghai
dates: 2026-01-05 .. 2026-01-11
playlists:
  week:
    - slogan: Stay safe online
      duration: 10s
schedule:
  - play: week
"""


def campaign_file_form() -> dict[str, Any]:
    return {"file": (io.BytesIO(CAMPAIGN_FILE.encode()), f"{MARK}.yaml")}


ROWS: dict[tuple[str, str], Row] = {
    # organisations
    ("GET", "/organisations"): listing(lambda c: None),
    ("GET", "/organisations/{org_id}"): Row(lambda c: Call({"org_id": c.world.school.id}), READ),
    ("POST", "/organisations"): Row(
        lambda c: Call(json={"name": c.name("unit"), "parent_id": c.world.school.id}), ADMINISTER
    ),
    ("PATCH", "/organisations/{org_id}"): Row(
        lambda c: Call({"org_id": c.organisation().id}, json={"name": c.name("unit")}), ADMINISTER
    ),
    ("DELETE", "/organisations/{org_id}"): Row(
        lambda c: Call({"org_id": c.organisation().id}), ADMINISTER
    ),
    # session and one's own tokens
    ("GET", "/session"): Row(lambda c: Call(), ANYONE),
    ("GET", "/tokens"): listing(Ctx.token, shows=()),
    ("POST", "/tokens"): Row(lambda c: Call(json={"name": "script"}), ANYONE),
    ("DELETE", "/tokens/{token_id}"): Row(lambda c: Call({"token_id": c.token()}), TOKEN),
    # users
    ("GET", "/users"): listing(lambda c: c.user(), grid_=ADMINS_ONLY),
    ("GET", "/users/{user_id}"): Row(lambda c: Call({"user_id": c.user().id}), ADMINISTER),
    ("POST", "/users"): Row(
        lambda c: Call(
            json={
                "email": f"{next(c.counter)}@city.test",
                "password": "long enough secret",
                "organisation_id": c.world.school.id,
                "role": "viewer",
            }
        ),
        ADMINISTER,
    ),
    ("PATCH", "/users/{user_id}"): Row(
        lambda c: Call({"user_id": c.user().id}, json={"name": "x"}), ADMINISTER
    ),
    ("DELETE", "/users/{user_id}"): Row(lambda c: Call({"user_id": c.user().id}), ADMINISTER),
    ("POST", "/users/{user_id}/memberships"): Row(
        lambda c: Call(
            {"user_id": c.user().id},
            json={"organisation_id": c.organisation().id, "role": "operator"},
        ),
        ADMINISTER,
    ),
    ("PATCH", "/users/{user_id}/memberships/{organisation_id}"): Row(
        lambda c: Call(
            {"user_id": c.user().id, "organisation_id": c.world.school.id}, json={"role": "admin"}
        ),
        ADMINISTER,
    ),
    ("DELETE", "/users/{user_id}/memberships/{organisation_id}"): Row(
        lambda c: membership_call(c), ADMINISTER
    ),
    # screens
    ("GET", "/screens"): listing(Ctx.screen),
    ("GET", "/screens/{screen_id}"): Row(lambda c: Call({"screen_id": c.screen().id}), READ),
    ("POST", "/screens"): Row(
        lambda c: Call(json={"name": c.name("screen"), "organisation_id": c.world.school.id}),
        WRITE,
    ),
    ("PATCH", "/screens/{screen_id}"): Row(
        lambda c: Call({"screen_id": c.screen().id}, json={"tags": ["lobby"]}), WRITE
    ),
    ("DELETE", "/screens/{screen_id}"): Row(lambda c: Call({"screen_id": c.screen().id}), WRITE),
    # groups
    ("GET", "/groups"): listing(Ctx.group, shows=("same", "parent", "child")),
    ("GET", "/groups/{group_id}"): Row(lambda c: Call({"group_id": c.group().id}), READ_DOWN),
    ("POST", "/groups"): Row(
        lambda c: Call(json={"name": c.name("group"), "organisation_id": c.world.school.id}),
        WRITE,
    ),
    ("PATCH", "/groups/{group_id}"): Row(
        lambda c: Call({"group_id": c.group().id}, json={"name": c.name("group")}), WRITE_DOWN
    ),
    ("DELETE", "/groups/{group_id}"): Row(lambda c: Call({"group_id": c.group().id}), WRITE_DOWN),
    ("GET", "/groups/{group_id}/screens"): Row(
        lambda c: Call({"group_id": c.group().id}), READ_DOWN
    ),
    ("PUT", "/groups/{group_id}/screens/{screen_id}"): Row(
        lambda c: Call({"group_id": c.group().id, "screen_id": c.screen().id}), WRITE
    ),
    ("DELETE", "/groups/{group_id}/screens/{screen_id}"): Row(
        lambda c: Call({"group_id": c.group().id, "screen_id": c.screen().id}), WRITE
    ),
    # assets
    ("GET", "/assets"): listing(Ctx.asset, shows=("same", "parent", "child")),
    ("GET", "/assets/{asset_id}"): Row(lambda c: Call({"asset_id": c.asset().id}), READ_DOWN),
    ("PATCH", "/assets/{asset_id}"): Row(
        lambda c: Call({"asset_id": c.asset().id}, json={"title": "x"}), WRITE_DOWN
    ),
    ("DELETE", "/assets/{asset_id}"): Row(lambda c: Call({"asset_id": c.asset().id}), WRITE_DOWN),
    ("POST", "/assets"): Row(lambda c: Call(form=upload_form(c.world.school.id)), WRITE),
    ("POST", "/assets/slogans"): Row(
        lambda c: Call(json={"text": "Stay safe online", "organisation_id": c.world.school.id}),
        WRITE,
    ),
    ("GET", "/assets/{asset_id}/thumbnail"): Row(
        lambda c: Call({"asset_id": c.uploaded()}), READ_DOWN
    ),
    ("GET", "/assets/{asset_id}/preview"): Row(
        lambda c: Call({"asset_id": c.uploaded()}), READ_DOWN
    ),
    # playlists
    ("GET", "/playlists"): listing(Ctx.playlist),
    ("GET", "/playlists/{playlist_id}"): Row(
        lambda c: Call({"playlist_id": c.playlist().id}), READ
    ),
    ("POST", "/playlists"): Row(
        lambda c: Call(json={"name": c.name("playlist"), "organisation_id": c.world.school.id}),
        WRITE,
    ),
    # A default playlist reaches screens unapproved: only an approver may choose one.
    ("PATCH", "/playlists/{playlist_id}"): Row(
        lambda c: Call({"playlist_id": c.playlist().id}, json={"is_default": True}),
        DEFAULT_PLAYLIST,
    ),
    ("PUT", "/playlists/{playlist_id}/items"): Row(
        lambda c: Call(
            {"playlist_id": c.playlist().id},
            json={"items": [{"asset_id": c.asset().id, "duration_ms": 5000}]},
        ),
        WRITE,
    ),
    ("DELETE", "/playlists/{playlist_id}"): Row(
        lambda c: Call({"playlist_id": c.playlist().id}), WRITE
    ),
    # campaigns: a child organisation reads the campaigns above it (they reach its screens)
    ("GET", "/campaigns"): listing(Ctx.campaign, shows=("same", "parent", "child")),
    ("GET", "/campaigns/{campaign_id}"): Row(
        lambda c: Call({"campaign_id": c.campaign().id}), READ_DOWN
    ),
    ("POST", "/campaigns"): Row(
        lambda c: Call(
            json={
                "name": c.name("campaign"),
                "organisation_id": c.world.school.id,
                "timezone": "Asia/Shanghai",
                "start_date": "2026-01-05",
                "end_date": "2026-01-11",
            }
        ),
        WRITE,
    ),
    ("PATCH", "/campaigns/{campaign_id}"): Row(
        lambda c: Call({"campaign_id": c.campaign().id}, json={"description": "x"}), WRITE
    ),
    ("DELETE", "/campaigns/{campaign_id}"): Row(
        lambda c: Call({"campaign_id": c.campaign().id}), WRITE
    ),
    ("POST", "/campaigns/{campaign_id}/entries"): Row(
        lambda c: Call(
            {"campaign_id": c.campaign(entries=0).id}, json={"playlist_id": c.playlist().id}
        ),
        WRITE,
    ),
    ("PATCH", "/campaigns/{campaign_id}/entries/{entry_id}"): Row(
        lambda c: entry_call(c, {"priority": 5}), WRITE
    ),
    ("DELETE", "/campaigns/{campaign_id}/entries/{entry_id}"): Row(
        lambda c: entry_call(c, None), WRITE
    ),
    ("POST", "/campaigns/{campaign_id}/submit"): Row(
        lambda c: Call({"campaign_id": c.campaign().id}), WRITE
    ),
    ("POST", "/campaigns/{campaign_id}/approve"): Row(
        lambda c: Call({"campaign_id": c.campaign(CampaignStatus.SUBMITTED).id}), APPROVE
    ),
    ("POST", "/campaigns/{campaign_id}/send-back"): Row(
        lambda c: Call(
            {"campaign_id": c.campaign(CampaignStatus.SUBMITTED).id}, json={"comment": "why"}
        ),
        APPROVE,
    ),
    ("POST", "/campaigns/{campaign_id}/publish"): Row(
        lambda c: Call({"campaign_id": c.campaign(CampaignStatus.APPROVED).id}), APPROVE
    ),
    ("POST", "/campaigns/{campaign_id}/archive"): Row(
        lambda c: Call({"campaign_id": c.campaign().id}), APPROVE
    ),
    ("GET", "/screens/{screen_id}/timeline"): Row(
        lambda c: Call(
            {"screen_id": c.screen().id},
            query={"from": "2026-01-05T00:00:00+08:00", "to": "2026-01-06T00:00:00+08:00"},
        ),
        READ,
    ),
    # fleet
    ("POST", "/pairings/claim"): Row(
        lambda c: Call(json={"code": c.pairing(), "organisation_id": c.world.school.id}), WRITE
    ),
    ("POST", "/organisations/{org_id}/enrolment-tokens"): Row(
        lambda c: Call(
            {"org_id": c.world.school.id},
            json={"expires_at": (c.now + timedelta(days=1)).isoformat(), "max_uses": 5},
        ),
        ADMINISTER,
    ),
    ("GET", "/organisations/{org_id}/enrolment-tokens"): Row(
        lambda c: Call({"org_id": c.world.school.id}), ADMINISTER
    ),
    ("DELETE", "/enrolment-tokens/{token_id}"): Row(
        lambda c: Call({"token_id": c.enrolment_token()}), ADMINISTER
    ),
    # Unpairing is the operator's, as pairing is.
    ("DELETE", "/screens/{screen_id}/device-token"): Row(
        lambda c: Call({"screen_id": c.screen().id}), WRITE
    ),
    ("POST", "/screens/{screen_id}/commands"): Row(
        lambda c: Call({"screen_id": c.screen().id}, json={"kind": "refresh"}), WRITE
    ),
    ("GET", "/screens/{screen_id}/commands"): Row(
        lambda c: Call({"screen_id": c.screen().id}), READ
    ),
    ("GET", "/screens/{screen_id}/screenshot"): Row(
        lambda c: Call({"screen_id": c.screenshot().id}), READ
    ),
    ("GET", "/fleet"): listing(Ctx.screen),
    ("GET", "/reports/plays"): listing(Ctx.play, {"group_by": "screen"}),
    # alerts: incidents are read like screens; rules and channels are an admin's
    ("GET", "/alerts"): listing(alert_incident, grid_=ANYONE),
    ("GET", "/alerts/rules"): listing(alert_rule, grid_=ADMINS_ONLY),
    ("POST", "/alerts/rules"): Row(
        # a fresh organisation under School each time: one rule of a kind per organisation
        lambda c: Call(json={"organisation_id": c.organisation().id, "kind": "offline"}),
        ADMINISTER,
    ),
    ("PATCH", "/alerts/rules/{rule_id}"): Row(
        lambda c: Call({"rule_id": alert_rule(c)}, json={"minutes": 30}), ADMINISTER
    ),
    ("DELETE", "/alerts/rules/{rule_id}"): Row(
        lambda c: Call({"rule_id": alert_rule(c)}), ADMINISTER
    ),
    ("GET", "/alerts/channels"): listing(alert_channel, grid_=ADMINS_ONLY),
    ("POST", "/alerts/channels"): Row(
        lambda c: Call(
            json={
                "organisation_id": c.world.school.id,
                "name": c.name("channel"),
                "kind": "email",
                "target": "ops@school.test",
                "locale": "zh-CN",
            }
        ),
        ADMINISTER,
    ),
    ("PATCH", "/alerts/channels/{channel_id}"): Row(
        lambda c: Call({"channel_id": alert_channel(c)}, json={"enabled": False}), ADMINISTER
    ),
    ("DELETE", "/alerts/channels/{channel_id}"): Row(
        lambda c: Call({"channel_id": alert_channel(c)}), ADMINISTER
    ),
    # campaign files: what the command would print, for anyone who may read; School is
    # "no organisation" to a caller outside its tree (exit 2 in the answer, nothing written)
    ("POST", "/campaign-files/check"): Row(lambda c: Call(form=campaign_file_form), ANYONE),
    ("POST", "/campaign-files/plan"): Row(lambda c: Call(form=campaign_file_form), ANYONE),
    ("POST", "/campaign-files/apply"): Row(
        lambda c: Call(form=campaign_file_form),
        grid(OPERATOR, OPERATOR, OPERATOR, OPERATOR, OPERATOR),
    ),
}


def membership_call(c: Ctx) -> Call:
    """A School user who also belongs to a unit below School; that membership goes."""
    unit = c.organisation()
    return Call({"user_id": c.user(unit).id, "organisation_id": unit.id})


def entry_call(c: Ctx, body: Any) -> Call:
    campaign = c.campaign()
    return Call({"campaign_id": campaign.id, "entry_id": campaign.entries[0].id}, json=body)


def operator_operations() -> list[tuple[str, str]]:
    return sorted(
        (op.method.upper(), op.path)
        for op in api.operations
        if op.policy.audience is Audience.OPERATOR
    )


def test_every_operator_operation_has_a_row() -> None:
    import server.api  # noqa: F401 - registers every blueprint's operations

    missing = [f"{m} {p}" for m, p in operator_operations() if (m, p) not in ROWS]
    assert missing == [], (
        "add a row for each of these to ROWS in tests/server/api/test_authz_matrix.py: "
        "how to build its path parameters and a valid request from the seeded world"
    )
    stale = [f"{m} {p}" for m, p in ROWS if (m, p) not in set(operator_operations())]
    assert stale == [], "these rows name operations that no longer exist"


def send(c: Ctx, method: str, path: str, call: Call, headers: dict[str, str]) -> Any:
    url = API_PREFIX + path.format(**call.params)
    kwargs: dict[str, Any] = {"headers": headers, "query_string": call.query}
    if call.form is not None:
        kwargs["data"] = call.form()
        kwargs["content_type"] = "multipart/form-data"
    elif call.json is not None:
        kwargs["json"] = call.json
    elif method in ("POST", "PUT", "PATCH") and _expects_json(method, path):
        kwargs["json"] = {}
    response = c.client.open(url, method=method, **kwargs)
    response.get_data()  # read, then release what a file body holds open
    response.close()
    return response


def _expects_json(method: str, path: str) -> bool:
    return any(
        op.method.upper() == method and op.path == path and op.body is not None
        for op in api.operations
    )


def leaks(text: str) -> list[str]:
    return [m for m in LEAKS if m in text]


def actors(c: Ctx) -> dict[tuple[str, Role], dict[str, str]]:
    """A user of each role in each relation to School, by their token's headers."""
    w = c.world
    orgs = {
        "same": w.school,
        "parent": w.city,
        "child": create_organisation(c.session, "Class", w.school, c.now),
        "sibling": create_organisation(c.session, "Sibling", w.city, c.now),
        "outsider": w.other,
    }
    c.session.flush()
    out = {}
    for relation, org in orgs.items():
        for role in ROLES:
            email = f"{role.value}.{relation}@matrix.test"
            out[(relation, role)] = w.add_person(c.session, email, org, role, c.now).headers
    c.session.commit()
    return out


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table, in one query: what a refused write must leave as it was."""
    session.rollback()
    tables = Base.metadata.sorted_tables
    counts = session.execute(
        select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    ).one()
    return {t.name: int(n) for t, n in zip(tables, counts, strict=True)}


def forget_made(session: Session, keep: set[int]) -> None:
    """Drop the objects made for earlier calls (the world's organisations and people stay)."""
    for obj in list(session):
        if obj in session and id(obj) not in keep:
            session.expunge(obj)


def _meets(expected: str, status: int) -> bool:
    if expected == OK:
        return 200 <= status < 300
    if expected.endswith("xx"):  # a class: 3xx is "sent elsewhere" (to sign in)
        return status // 100 == int(expected[0])
    return status == int(expected)


def test_matrix(client: FlaskClient, session: Session, world, app: Flask) -> None:  # type: ignore[no-untyped-def]
    c = Ctx(client, session, world, app)
    people = actors(c)
    keep = {id(obj) for obj in session}
    failures: list[str] = []
    for method, path in operator_operations():
        row = ROWS.get((method, path))
        if row is None:
            continue  # reported by test_every_operator_operation_has_a_row
        where = f"{method} {path}"
        write = method != "GET"
        session.rollback()  # no stale read snapshot: SQLite would refuse our next write
        forget_made(session, keep)
        call = row.build(c)
        cells = [
            (relation, role, row.grid[relation][i])
            for relation in RELATIONS
            for i, role in enumerate(ROLES)
        ]
        # Refusals first, on one object: together they must change nothing at all.
        refused = [cell for cell in cells if cell[2] != OK]
        before = row_counts(session)
        r = send(c, method, path, call, {})
        if r.status_code != 401:
            failures.append(f"{where}: anonymous got {r.status_code}, not 401")
        for relation, role, expected in refused:
            r = send(c, method, path, call, people[(relation, role)])
            if not _meets(expected, r.status_code):
                text = r.get_data().decode(errors="replace")[:160]
                failures.append(
                    f"{where}: {role.value} ({relation}) got {r.status_code}, not {expected}: "
                    f"{text}"
                )
            elif leaks(r.get_data().decode(errors="replace")) and r.status_code >= 400:
                failures.append(f"{where}: {role.value} ({relation}) refusal names our rows")
        after = row_counts(session)
        if write and after != before:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            failures.append(f"{where}: refused calls changed rows {changed}")
        # Then each allowed call, on a fresh object for writes (a delete uses its object up).
        for relation, role, _ in (cell for cell in cells if cell[2] == OK):
            if write:
                session.rollback()
                forget_made(session, keep)  # ids of rows deleted by a request come back on SQLite
                call = row.build(c)
            r = send(c, method, path, call, people[(relation, role)])
            text = r.get_data().decode(errors="replace")
            if not 200 <= r.status_code < 300:
                failures.append(
                    f"{where}: {role.value} ({relation}) got {r.status_code}, not ok: {text[:160]}"
                )
            elif row.shows is not None:
                shown = bool(leaks(text))
                if shown != (relation in row.shows):
                    failures.append(
                        f"{where}: {role.value} ({relation}) "
                        + ("sees our rows" if shown else "does not see our rows")
                    )
    assert failures == [], f"{len(failures)} cells differ:\n" + "\n".join(failures)


# Every route that is not an operator's: who calls it -> the status, written by hand.
# Callers: nobody (anonymous), our admin's API token, our screen's device token, and the
# device token of a screen of another organisation.
CALLERS = ("anonymous", "operator", "device", "other_device")
# A page: sent to sign in (3xx) without a session, a player's token included; an operator's
# API token is a signed-in operator.
PAGE: dict[str, int | str] = {
    "anonymous": "3xx",
    "operator": OK,
    "device": "3xx",
    "other_device": "3xx",
}


def page_post(operator: int | str) -> dict[str, int | str]:
    """A form post: refused outright without a session (401); what an operator's empty form
    gets (the page again with what is missing, or 422 for a form that names nothing)."""
    return {"anonymous": 401, "operator": operator, "device": 401, "other_device": 401}


# The console's campaign pages: the list, a campaign, its editor, the file upload.
CAMPAIGN_PAGES: dict[tuple[str, str], dict[str, int | str]] = {
    ("GET", "/campaigns"): PAGE,
    ("GET", "/campaigns/new"): PAGE,
    ("GET", "/campaigns/upload"): PAGE,
    # No campaign has the id the matrix asks for: the page is guarded, then not found.
    ("GET", "/campaigns/<int:campaign_id>"): {**PAGE, "operator": 404},
    ("GET", "/campaigns/<int:campaign_id>/edit"): {**PAGE, "operator": 404},
    ("GET", "/campaigns/<int:campaign_id>/export.yaml"): {**PAGE, "operator": 404},
    ("POST", "/campaigns/new"): page_post(422),  # the empty form names nothing
    ("POST", "/campaigns/upload"): page_post(422),  # no file
    ("POST", "/campaigns/upload/apply"): page_post(404),  # no upload kept under that token
    ("POST", "/campaigns/<int:campaign_id>/submit"): page_post(404),
    ("POST", "/campaigns/<int:campaign_id>/edit"): page_post(404),
    ("POST", "/campaigns/<int:campaign_id>/playlists/<int:playlist_id>"): page_post(404),
    ("POST", "/campaigns/<int:campaign_id>/entries"): page_post(404),
    ("POST", "/campaigns/<int:campaign_id>/entries/<int:entry_id>"): page_post(404),
    ("POST", "/campaigns/<int:campaign_id>/entries/<int:entry_id>/delete"): page_post(404),
}

# The approval desk.
DESK_PAGES: dict[tuple[str, str], dict[str, int | str]] = {
    ("GET", "/desk"): PAGE,
    ("POST", "/desk"): page_post(422),  # an empty form names no campaign and no step
}

# The calendars, and what plays where and why.
CALENDAR_AND_PREVIEW_PAGES: dict[tuple[str, str], dict[str, int | str]] = {
    ("GET", "/calendar"): PAGE,
    ("GET", "/preview"): PAGE,
    ("GET", "/campaigns/<int:campaign_id>/calendar"): {**PAGE, "operator": 404},
}

# Reports and the audit log.
REPORT_AND_AUDIT_PAGES: dict[tuple[str, str], dict[str, int | str]] = {
    ("GET", "/reports"): PAGE,
    ("GET", "/reports/plays.csv"): PAGE,
    ("GET", "/audit"): PAGE,  # admins only; the caller "operator" is our admin's token
}

OTHER_ROUTES: dict[tuple[str, str], dict[str, int | str]] = {
    ("POST", "/api/v1/session"): {"anonymous": 401, "operator": 401, "device": 401},
    ("DELETE", "/api/v1/session"): {c: 204 for c in CALLERS},
    ("POST", "/api/v1/player/hello"): {c: OK for c in CALLERS},
    ("GET", "/api/v1/player/manifest"): {
        "anonymous": 401,
        "operator": 401,
        "device": OK,
        "other_device": OK,
    },
    ("POST", "/api/v1/player/plays"): {
        "anonymous": 401,
        "operator": 401,
        "device": OK,
        "other_device": OK,
    },
    ("POST", "/api/v1/player/screenshot"): {
        "anonymous": 401,
        "operator": 401,
        "device": 201,
        "other_device": 201,
    },
    # The command is our screen's: another screen is told it does not exist.
    ("POST", "/api/v1/player/commands/<int:command_id>/ack"): {
        "anonymous": 401,
        "operator": 401,
        "device": OK,
        "other_device": 404,
    },
    # Unpublished media of ours: our operators only.
    ("GET", "/media/<string:name>"): {
        "anonymous": 404,
        "operator": 200,
        "device": 404,
        "other_device": 404,
    },
    # Binding a version-1 screen to its key: the screen's own token only.
    ("PUT", "/api/v1/player/device-key"): {
        "anonymous": 401,
        "operator": 401,
        "device": 400,  # its token is accepted; no body is not a key
        "other_device": 400,
    },
    # From a direct local caller (the test client) without the token: allowed.
    ("GET", "/metrics"): {c: 200 for c in CALLERS},
    # The console's pages (tests/console drives them in a browser, roles and forged posts
    # included).
    ("GET", "/login"): {c: 200 for c in CALLERS},
    ("POST", "/login"): {c: 401 for c in CALLERS},  # an empty form: wrong email or password
    ("GET", "/fleet"): PAGE,
    ("GET", "/screens"): {c: "3xx" for c in CALLERS},  # the fleet is the screens list
    ("GET", "/screens/<int:screen_id>"): PAGE,
    ("GET", "/screens/<int:screen_id>/live"): PAGE,
    ("GET", "/groups"): PAGE,
    ("GET", "/media"): PAGE,
    ("GET", "/me"): PAGE,
    ("GET", "/people"): PAGE,
    ("GET", "/enrolment-tokens"): PAGE,
    ("GET", "/screens/pair"): PAGE,
    ("GET", "/media/slogan"): PAGE,
    ("GET", "/media/slogan/preview.png"): {**PAGE, "operator": 422},  # no text given
    ("POST", "/logout"): page_post("3xx"),
    ("POST", "/scope"): page_post("3xx"),
    ("POST", "/me"): page_post(200),
    ("POST", "/people"): page_post(200),
    ("POST", "/screens/<int:screen_id>"): page_post(422),
    ("POST", "/screens/pair"): page_post(422),
    ("POST", "/enrolment-tokens"): page_post(422),  # an empty form says neither create nor revoke
    ("POST", "/groups"): page_post(200),
    ("POST", "/media"): page_post("4xx"),
    ("POST", "/media/slogan"): page_post("4xx"),
    ("POST", "/media/slogan/preview"): page_post(OK),  # says what is missing, in the preview
    ("GET", "/api/v1/openapi.json"): {c: 200 for c in CALLERS},
    ("GET", "/"): {c: "3xx" for c in CALLERS},  # to the fleet, or to sign in first
    ("GET", "/healthz"): {c: 200 for c in CALLERS},
    ("GET", "/static/<path:name>"): {c: 404 for c in CALLERS},  # no such file
    **CAMPAIGN_PAGES,
    **DESK_PAGES,
    **CALENDAR_AND_PREVIEW_PAGES,
    **REPORT_AND_AUDIT_PAGES,
}


def _other_rules(app: Flask) -> set[tuple[str, str]]:
    """Every (method, rule) of the app that is not an operator operation."""
    ops = {(m, API_PREFIX + p) for m, p in operator_operations()}
    out = set()
    for rule in app.url_map.iter_rules():
        openapi_form = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if (method, openapi_form) not in ops:
                out.add((method, re.sub(r"\(max=\d+\)", "", rule.rule)))
    return out


def test_every_other_route_has_a_row(app: Flask) -> None:
    assert _other_rules(app) == set(OTHER_ROUTES)


def test_player_public_and_media_routes(
    client: FlaskClient,
    session: Session,
    world,
    app: Flask,  # type: ignore[no-untyped-def]
) -> None:
    c = Ctx(client, session, world, app)
    ours = c.screen()
    theirs = objects.screen(session, world.other, "Theirs", c.now)
    tokens = {}
    for screen in (ours, theirs):
        token = new_token(DEVICE_TOKEN_PREFIX)
        screen.device_token_hash = token_digest(token)
        tokens[screen.id] = {"Authorization": f"Bearer {token}"}
    session.commit()
    headers = {
        "anonymous": {},
        "operator": world["admin"].headers,
        "device": tokens[ours.id],
        "other_device": tokens[theirs.id],
    }
    sha = session.get(Asset, c.uploaded()).sha256  # type: ignore[union-attr]
    png_bytes = png()
    failures = []
    for (method, rule), expected in OTHER_ROUTES.items():
        for caller, status in expected.items():
            session.rollback()  # no stale read snapshot: SQLite would refuse our next write
            kwargs: dict[str, Any] = {"headers": headers[caller]}
            url = rule
            if rule == "/api/v1/session" and method == "POST":
                kwargs["json"] = {"email": "admin@province.test", "password": "wrong"}
            elif rule.endswith("/hello"):
                kwargs["json"] = {
                    "hardware_id": f"hw-{next(c.counter)}",
                    "player_version": "1",
                    "width": 1920,
                    "height": 1080,
                }
            elif rule.endswith("/plays"):
                kwargs["json"] = {"events": []}
            elif rule.endswith("/screenshot"):
                kwargs.update(data=png_bytes, content_type="image/png")
            elif "command_id" in rule:
                command = Command(screen_id=ours.id, kind="refresh", issued_at=c.now)
                session.add(command)
                session.commit()
                url = rule.replace("<int:command_id>", str(command.id))
                kwargs["json"] = {"ok": True}
            elif "<string:name>" in rule:
                url = f"/media/{sha}"
            elif "<int:screen_id>" in rule:
                url = rule.replace("<int:screen_id>", str(ours.id))
            elif "<path:name>" in rule:
                url = "/static/no-such-file.css"
            elif "<int:" in rule:  # an object the matrix did not make: guarded, then 404
                url = re.sub(r"<int:\w+>", "999999", rule)
            r = client.open(url, method=method, **kwargs)
            r.get_data()
            r.close()
            if not _meets(str(status), r.status_code):
                failures.append(f"{method} {rule}: {caller} got {r.status_code}, not {status}")
    assert failures == [], "\n".join(failures)
