"""Alerts over the API: incidents (open and recent) for operators; rules and channels for
admins. The console can show the same incidents later, through the same service."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from server import clock
from server.accounts.models import Organisation as _Org
from server.alerts import services as service
from server.alerts.models import AlertChannel, AlertKind, AlertRule, ChannelKind, Incident
from server.api.registry import api
from server.api.schemas import Id, ListQuery, Name, Page, Patch, Strict, paginate
from server.auth.policy import ADMIN, READ, current_actor
from server.db import get_session

bp = Blueprint("alerts", __name__, url_prefix="/alerts")
MINUTES = "How long the condition must hold first (offline: how long unseen)"
Locale = Literal["en", "zh-CN"]


class IncidentOut(BaseModel):
    id: int
    kind: AlertKind
    screen_id: int
    screen: str
    organisation_id: int
    organisation: str
    since: datetime
    opened_at: datetime
    resolved_at: datetime | None
    detail: str


class IncidentList(Page[IncidentOut]):
    pass


class IncidentQuery(ListQuery):
    state: Literal["current", "open", "all"] = Field(
        default="current", description="current: open, and resolved in the last seven days"
    )
    organisation_id: Id | None = None


INCIDENT_SORT = {
    "id": Incident.id,
    "opened_at": Incident.opened_at,
    "resolved_at": Incident.resolved_at,
    "kind": Incident.kind,
}


def _incident(incident: Incident) -> IncidentOut:
    return IncidentOut(
        id=incident.id,
        kind=incident.kind,
        screen_id=incident.screen_id,
        screen=incident.screen.name,
        organisation_id=incident.organisation_id,
        organisation=incident.organisation.name,
        since=incident.since,
        opened_at=incident.opened_at or incident.since,
        resolved_at=incident.resolved_at,
        detail=incident.detail,
    )


@api.route(
    bp,
    "",
    "GET",
    policy=READ,
    summary="Alert incidents: open ones and those resolved lately, newest first by default",
    query=IncidentQuery,
    response=IncidentList,
)
def list_incidents(query: IncidentQuery) -> dict[str, object]:
    stmt = service.incidents_select(
        current_actor(), clock.now(), query.state, query.organisation_id
    )
    return paginate(get_session(), stmt, query, INCIDENT_SORT, _incident)


# Rules


class RuleIn(Strict):
    organisation_id: Id
    kind: AlertKind
    minutes: int = Field(default=10, ge=0, le=7 * 24 * 60, description=MINUTES)
    min_free_bytes: int = Field(
        default=0, ge=0, le=2**53, description="storage: alert when free disk falls below"
    )
    enabled: bool = True


class RulePatch(Patch):
    minutes: int | SkipJsonSchema[None] = Field(
        default=None, ge=0, le=7 * 24 * 60, description=MINUTES
    )
    min_free_bytes: int | SkipJsonSchema[None] = Field(default=None, ge=0, le=2**53)
    enabled: bool | SkipJsonSchema[None] = None


class RuleOut(BaseModel):
    id: int
    organisation_id: int
    organisation: str
    kind: AlertKind
    minutes: int
    min_free_bytes: int
    enabled: bool
    created_at: datetime


class RuleList(Page[RuleOut]):
    pass


RULE_SORT = {
    "id": AlertRule.id,
    "kind": AlertRule.kind,
    "organisation_id": AlertRule.organisation_id,
}


def _rule(rule: AlertRule) -> RuleOut:
    org = get_session().get_one(_Org, rule.organisation_id)
    return RuleOut(
        id=rule.id,
        organisation_id=rule.organisation_id,
        organisation=org.name,
        kind=rule.kind,
        minutes=rule.minutes,
        min_free_bytes=rule.min_free_bytes,
        enabled=rule.enabled,
        created_at=rule.created_at,
    )


@api.route(bp, "/rules", "GET", policy=ADMIN, summary="List alert rules", query=ListQuery,
           response=RuleList)
def list_rules(query: ListQuery) -> dict[str, object]:
    return paginate(get_session(), service.rules_select(current_actor()), query, RULE_SORT, _rule)


@api.route(
    bp,
    "/rules",
    "POST",
    policy=ADMIN,
    summary="Add a rule to an organisation (it holds for its whole subtree)",
    body=RuleIn,
    response=RuleOut,
    status=201,
    extra_responses={409: "The organisation has a rule of this kind"},
)
def create_rule(body: RuleIn) -> RuleOut:
    db = get_session()
    rule = service.create_rule(db, current_actor(), clock.now(), **body.model_dump())
    db.commit()
    return _rule(rule)


@api.route(bp, "/rules/<int:rule_id>", "PATCH", policy=ADMIN, summary="Change an alert rule",
           body=RulePatch, response=RuleOut)
def update_rule(rule_id: int, body: RulePatch) -> RuleOut:
    db = get_session()
    rule = service.update_rule(db, current_actor(), clock.now(), rule_id, body.changes())
    db.commit()
    return _rule(rule)


@api.route(bp, "/rules/<int:rule_id>", "DELETE", policy=ADMIN, summary="Remove an alert rule")
def delete_rule(rule_id: int) -> None:
    db = get_session()
    service.delete_rule(db, current_actor(), clock.now(), rule_id)
    db.commit()


# Channels


class ChannelIn(Strict):
    organisation_id: Id
    name: Name
    kind: ChannelKind
    target: str = Field(min_length=1, max_length=2000, description="The URL or the address")
    secret: str = Field(
        default="", max_length=200, description="webhook: signs each call (HMAC-SHA256)"
    )
    locale: Locale = "en"
    enabled: bool = True


class ChannelPatch(Patch):
    name: Name | SkipJsonSchema[None] = None
    target: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=2000)
    secret: str | SkipJsonSchema[None] = Field(default=None, max_length=200)
    locale: Locale | SkipJsonSchema[None] = None
    enabled: bool | SkipJsonSchema[None] = None


class ChannelOut(BaseModel):
    id: int
    organisation_id: int
    organisation: str
    name: str
    kind: ChannelKind
    target: str
    secret_set: bool
    locale: str
    enabled: bool
    created_at: datetime


class ChannelList(Page[ChannelOut]):
    pass


CHANNEL_SORT = {"id": AlertChannel.id, "name": AlertChannel.name, "kind": AlertChannel.kind}


def _channel(channel: AlertChannel) -> ChannelOut:
    org = get_session().get_one(_Org, channel.organisation_id)
    return ChannelOut(
        id=channel.id,
        organisation_id=channel.organisation_id,
        organisation=org.name,
        name=channel.name,
        kind=channel.kind,
        target=channel.target,
        secret_set=bool(channel.secret),
        locale=channel.locale,
        enabled=channel.enabled,
        created_at=channel.created_at,
    )


@api.route(bp, "/channels", "GET", policy=ADMIN, summary="List alert channels",
           query=ListQuery, response=ChannelList)
def list_channels(query: ListQuery) -> dict[str, object]:
    stmt = service.channels_select(current_actor())
    return paginate(get_session(), stmt, query, CHANNEL_SORT, _channel)


@api.route(
    bp,
    "/channels",
    "POST",
    policy=ADMIN,
    summary="Add a webhook or an e-mail address that hears of the subtree's incidents",
    body=ChannelIn,
    response=ChannelOut,
    status=201,
)
def create_channel(body: ChannelIn) -> ChannelOut:
    db = get_session()
    channel = service.create_channel(db, current_actor(), clock.now(), **body.model_dump())
    db.commit()
    return _channel(channel)


@api.route(bp, "/channels/<int:channel_id>", "PATCH", policy=ADMIN,
           summary="Change an alert channel", body=ChannelPatch, response=ChannelOut)
def update_channel(channel_id: int, body: ChannelPatch) -> ChannelOut:
    db = get_session()
    channel = service.update_channel(db, current_actor(), clock.now(), channel_id, body.changes())
    db.commit()
    return _channel(channel)


@api.route(bp, "/channels/<int:channel_id>", "DELETE", policy=ADMIN,
           summary="Remove an alert channel")
def delete_channel(channel_id: int) -> None:
    db = get_session()
    service.delete_channel(db, current_actor(), clock.now(), channel_id)
    db.commit()
