"""Who may call what: one row per operator operation, checked for four callers.

For every operation the registry declares for operators:
- anonymous: 401;
- an admin of another organisation tree (the "outsider"): 404 for an object of ours addressed
  in the path or named as the parent in the body; a list must not show any of our rows;
- a viewer of our tree: 403 where the route needs more than a viewer (writes, admin reads);
- our admin (the owner): success.

A new operator route fails `test_every_operator_operation_has_a_row` until it gets a row in
ROWS below: say how to build its path parameters and a valid request from the seeded world.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.accounts.models import Role
from server.alerts.models import AlertChannel, AlertKind, AlertRule, ChannelKind, Incident
from server.api.registry import API_PREFIX, api
from server.auth.policy import Audience
from server.campaigns.models import CampaignStatus
from tests.server.api.matrix_world import LEAKS, MARK, Call, Ctx, upload_form


@dataclass(frozen=True)
class Row:
    build: Callable[[Ctx], Call]
    # Expected status for our viewer; None: 2xx for a read open to viewers, else 403.
    viewer: int | None = None
    # "404": our object is addressed, so the outsider gets 404;
    # "hidden": a list, which must not show the outsider any of our rows;
    # "self": the outsider acts on their own account (2xx expected, nothing of ours shown).
    outsider: str = "404"


LIST = "hidden"


def listing(seed: Callable[[Ctx], object], query: dict[str, Any] | None = None) -> Row:
    """A list route: seed one of our rows first, so the owner's list is not empty."""

    def build(c: Ctx) -> Call:
        seed(c)
        return Call(query=dict(query or {}))

    return Row(build, outsider=LIST)


ROWS: dict[tuple[str, str], Row] = {
    # organisations
    ("GET", "/organisations"): listing(lambda c: None),
    ("GET", "/organisations/{org_id}"): Row(lambda c: Call({"org_id": c.world.school.id})),
    ("POST", "/organisations"): Row(
        lambda c: Call(json={"name": c.name("unit"), "parent_id": c.world.city.id})
    ),
    ("PATCH", "/organisations/{org_id}"): Row(
        lambda c: Call({"org_id": c.organisation().id}, json={"name": c.name("unit")})
    ),
    ("DELETE", "/organisations/{org_id}"): Row(lambda c: Call({"org_id": c.organisation().id})),
    # session and own tokens
    ("GET", "/session"): Row(lambda c: Call(), outsider="self"),
    ("GET", "/tokens"): listing(Ctx.token),
    ("POST", "/tokens"): Row(lambda c: Call(json={"name": "script"}), viewer=201, outsider="self"),
    ("DELETE", "/tokens/{token_id}"): Row(lambda c: Call({"token_id": c.token()}), viewer=404),
    # users
    ("GET", "/users"): listing(lambda c: None),
    ("GET", "/users/{user_id}"): Row(lambda c: Call({"user_id": c.user().id})),
    ("POST", "/users"): Row(
        lambda c: Call(
            json={
                "email": f"{next(c.counter)}@city.test",
                "password": "long enough secret",
                "organisation_id": c.world.school.id,
                "role": "viewer",
            }
        )
    ),
    ("PATCH", "/users/{user_id}"): Row(
        lambda c: Call({"user_id": c.user().id}, json={"name": "x"})
    ),
    ("DELETE", "/users/{user_id}"): Row(lambda c: Call({"user_id": c.user().id})),
    ("POST", "/users/{user_id}/memberships"): Row(
        lambda c: Call(
            {"user_id": c.user().id}, json={"organisation_id": c.world.city.id, "role": "operator"}
        )
    ),
    ("PATCH", "/users/{user_id}/memberships/{organisation_id}"): Row(
        lambda c: Call(
            {"user_id": c.user().id, "organisation_id": c.world.school.id}, json={"role": "admin"}
        )
    ),
    ("DELETE", "/users/{user_id}/memberships/{organisation_id}"): Row(
        lambda c: Call({"user_id": c.user(c.world.city).id, "organisation_id": c.world.city.id})
    ),
    # screens
    ("GET", "/screens"): listing(Ctx.screen),
    ("GET", "/screens/{screen_id}"): Row(lambda c: Call({"screen_id": c.screen().id})),
    ("POST", "/screens"): Row(
        lambda c: Call(json={"name": c.name("screen"), "organisation_id": c.world.school.id})
    ),
    ("PATCH", "/screens/{screen_id}"): Row(
        lambda c: Call({"screen_id": c.screen().id}, json={"tags": ["lobby"]})
    ),
    ("DELETE", "/screens/{screen_id}"): Row(lambda c: Call({"screen_id": c.screen().id})),
    # groups
    ("GET", "/groups"): listing(Ctx.group),
    ("GET", "/groups/{group_id}"): Row(lambda c: Call({"group_id": c.group().id})),
    ("POST", "/groups"): Row(
        lambda c: Call(json={"name": c.name("group"), "organisation_id": c.world.school.id})
    ),
    ("PATCH", "/groups/{group_id}"): Row(
        lambda c: Call({"group_id": c.group().id}, json={"name": c.name("group")})
    ),
    ("DELETE", "/groups/{group_id}"): Row(lambda c: Call({"group_id": c.group().id})),
    ("GET", "/groups/{group_id}/screens"): Row(lambda c: Call({"group_id": c.group().id})),
    ("PUT", "/groups/{group_id}/screens/{screen_id}"): Row(
        lambda c: Call({"group_id": c.group().id, "screen_id": c.screen().id})
    ),
    ("DELETE", "/groups/{group_id}/screens/{screen_id}"): Row(
        lambda c: Call({"group_id": c.group().id, "screen_id": c.screen().id})
    ),
    # assets
    ("GET", "/assets"): listing(Ctx.asset),
    ("GET", "/assets/{asset_id}"): Row(lambda c: Call({"asset_id": c.asset().id})),
    ("PATCH", "/assets/{asset_id}"): Row(
        lambda c: Call({"asset_id": c.asset().id}, json={"title": "x"})
    ),
    ("DELETE", "/assets/{asset_id}"): Row(lambda c: Call({"asset_id": c.asset().id})),
    ("POST", "/assets"): Row(lambda c: Call(form=upload_form(c.world.school.id))),
    ("POST", "/assets/slogans"): Row(
        lambda c: Call(json={"text": "Stay safe online", "organisation_id": c.world.school.id})
    ),
    ("GET", "/assets/{asset_id}/thumbnail"): Row(lambda c: Call({"asset_id": c.uploaded()})),
    ("GET", "/assets/{asset_id}/preview"): Row(lambda c: Call({"asset_id": c.uploaded()})),
    # playlists
    ("GET", "/playlists"): listing(Ctx.playlist),
    ("GET", "/playlists/{playlist_id}"): Row(lambda c: Call({"playlist_id": c.playlist().id})),
    ("POST", "/playlists"): Row(
        lambda c: Call(json={"name": c.name("playlist"), "organisation_id": c.world.school.id})
    ),
    ("PATCH", "/playlists/{playlist_id}"): Row(
        lambda c: Call({"playlist_id": c.playlist().id}, json={"is_default": True})
    ),
    ("PUT", "/playlists/{playlist_id}/items"): Row(
        lambda c: Call(
            {"playlist_id": c.playlist().id},
            json={"items": [{"asset_id": c.asset().id, "duration_ms": 5000}]},
        )
    ),
    ("DELETE", "/playlists/{playlist_id}"): Row(lambda c: Call({"playlist_id": c.playlist().id})),
    # campaigns
    ("GET", "/campaigns"): listing(Ctx.campaign),
    ("GET", "/campaigns/{campaign_id}"): Row(lambda c: Call({"campaign_id": c.campaign().id})),
    ("POST", "/campaigns"): Row(
        lambda c: Call(
            json={
                "name": c.name("campaign"),
                "organisation_id": c.world.school.id,
                "timezone": "Asia/Shanghai",
                "start_date": "2026-01-05",
                "end_date": "2026-01-11",
            }
        )
    ),
    ("PATCH", "/campaigns/{campaign_id}"): Row(
        lambda c: Call({"campaign_id": c.campaign().id}, json={"description": "x"})
    ),
    ("DELETE", "/campaigns/{campaign_id}"): Row(lambda c: Call({"campaign_id": c.campaign().id})),
    ("POST", "/campaigns/{campaign_id}/entries"): Row(
        lambda c: Call(
            {"campaign_id": c.campaign(entries=0).id}, json={"playlist_id": c.playlist().id}
        )
    ),
    ("PATCH", "/campaigns/{campaign_id}/entries/{entry_id}"): Row(
        lambda c: entry_call(c, {"priority": 5})
    ),
    ("DELETE", "/campaigns/{campaign_id}/entries/{entry_id}"): Row(lambda c: entry_call(c, None)),
    ("POST", "/campaigns/{campaign_id}/submit"): Row(
        lambda c: Call({"campaign_id": c.campaign().id})
    ),
    ("POST", "/campaigns/{campaign_id}/approve"): Row(
        lambda c: Call({"campaign_id": c.campaign(CampaignStatus.SUBMITTED).id})
    ),
    ("POST", "/campaigns/{campaign_id}/publish"): Row(
        lambda c: Call({"campaign_id": c.campaign(CampaignStatus.APPROVED).id})
    ),
    ("POST", "/campaigns/{campaign_id}/archive"): Row(
        lambda c: Call({"campaign_id": c.campaign().id})
    ),
    ("GET", "/screens/{screen_id}/timeline"): Row(
        lambda c: Call(
            {"screen_id": c.screen().id},
            query={"from": "2026-01-05T00:00:00+08:00", "to": "2026-01-06T00:00:00+08:00"},
        )
    ),
    # fleet
    ("POST", "/pairings/claim"): Row(
        lambda c: Call(json={"code": c.pairing(), "organisation_id": c.world.school.id})
    ),
    ("POST", "/organisations/{org_id}/enrolment-tokens"): Row(
        lambda c: Call(
            {"org_id": c.world.school.id},
            json={"expires_at": (c.now + timedelta(days=1)).isoformat(), "max_uses": 5},
        )
    ),
    ("GET", "/organisations/{org_id}/enrolment-tokens"): Row(
        lambda c: Call({"org_id": c.world.school.id})
    ),
    ("DELETE", "/enrolment-tokens/{token_id}"): Row(
        lambda c: Call({"token_id": c.enrolment_token()})
    ),
    ("DELETE", "/screens/{screen_id}/device-token"): Row(
        lambda c: Call({"screen_id": c.screen().id})
    ),
    ("POST", "/screens/{screen_id}/commands"): Row(
        lambda c: Call({"screen_id": c.screen().id}, json={"kind": "refresh"})
    ),
    ("GET", "/screens/{screen_id}/commands"): Row(lambda c: Call({"screen_id": c.screen().id})),
    ("GET", "/screens/{screen_id}/screenshot"): Row(
        lambda c: Call({"screen_id": c.screenshot().id})
    ),
    ("GET", "/fleet"): listing(Ctx.screen),
    ("GET", "/reports/plays"): listing(Ctx.play, {"group_by": "screen"}),
    # alerts
    ("GET", "/alerts"): listing(lambda c: alert_incident(c)),
    ("GET", "/alerts/rules"): listing(lambda c: alert_rule(c)),
    ("POST", "/alerts/rules"): Row(
        lambda c: Call(json={"organisation_id": c.organisation().id, "kind": "offline"})
    ),
    ("PATCH", "/alerts/rules/{rule_id}"): Row(
        lambda c: Call({"rule_id": alert_rule(c)}, json={"minutes": 30})
    ),
    ("DELETE", "/alerts/rules/{rule_id}"): Row(lambda c: Call({"rule_id": alert_rule(c)})),
    ("GET", "/alerts/channels"): listing(lambda c: alert_channel(c)),
    ("POST", "/alerts/channels"): Row(
        lambda c: Call(
            json={
                "organisation_id": c.world.school.id,
                "name": c.name("channel"),
                "kind": "email",
                "target": "ops@school.test",
                "locale": "zh-CN",
            }
        )
    ),
    ("PATCH", "/alerts/channels/{channel_id}"): Row(
        lambda c: Call({"channel_id": alert_channel(c)}, json={"enabled": False})
    ),
    ("DELETE", "/alerts/channels/{channel_id}"): Row(
        lambda c: Call({"channel_id": alert_channel(c)})
    ),
}


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


def test_matrix(client: FlaskClient, session: Session, world, app: Flask) -> None:  # type: ignore[no-untyped-def]
    c = Ctx(client, session, world, app)
    failures: list[str] = []
    policy_roles = {
        (op.method.upper(), op.path): op.policy.role
        for op in api.operations
        if op.policy.audience is Audience.OPERATOR
    }
    for method, path in operator_operations():
        write = method != "GET"
        row = ROWS.get((method, path))
        if row is None:
            continue  # reported by test_every_operator_operation_has_a_row
        where = f"{method} {path}"
        # A viewer may call read routes open to viewers; anything else is refused.
        viewer_may = not write and policy_roles[(method, path)] is Role.VIEWER
        session.rollback()  # no stale read snapshot: SQLite would refuse our next write
        call = row.build(c)

        r = send(c, method, path, call, {})
        if r.status_code != 401:
            failures.append(f"{where}: anonymous got {r.status_code}, not 401")

        r = send(c, method, path, call, world["outsider"].headers)
        text = r.get_data(as_text=True)
        if row.outsider == "404" and r.status_code != 404:
            failures.append(f"{where}: outsider got {r.status_code}, not 404")
        elif row.outsider in (LIST, "self"):
            if not 200 <= r.status_code < 300:
                failures.append(f"{where}: outsider got {r.status_code}, not 2xx")
            if leaks(text):
                failures.append(f"{where}: outsider sees {leaks(text)}")

        r = send(c, method, path, call, world["viewer"].headers)
        wanted = row.viewer if row.viewer is not None else (200 if viewer_may else 403)
        ok = r.status_code == wanted or (wanted == 200 and 200 <= r.status_code < 300)
        if not ok:
            failures.append(f"{where}: viewer got {r.status_code}, not {wanted}: {text[:200]}")

        r = send(c, method, path, call, world["admin"].headers)
        if not 200 <= r.status_code < 300:
            failures.append(f"{where}: owner got {r.status_code}: {r.get_data(as_text=True)[:300]}")
        elif row.outsider == LIST and not leaks(r.get_data(as_text=True)):
            failures.append(
                f"{where}: the owner's list shows nothing of ours; the check is vacuous"
            )
    assert failures == [], "\n".join(failures)
