"""Alert rules and channels as admins manage them, and incidents as operators read them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.alerts.messages import LOCALES
from server.alerts.models import AlertChannel, AlertKind, AlertRule, ChannelKind, Incident
from server.auth import audit
from server.auth.actors import Actor
from server.auth.scope import in_scope
from server.db import MAX_ID
from server.errors import Conflict, FieldError, NotFound, ValidationFailed

RECENT = timedelta(days=7)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RULE_FIELDS = ("minutes", "min_free_bytes", "enabled")
CHANNEL_FIELDS = ("name", "target", "secret", "locale", "enabled")


def _org(session: Session, actor: Actor, org_id: int) -> Organisation:
    org = session.get(Organisation, org_id) if 0 < org_id <= MAX_ID else None
    if org is None or not actor.sees(org.path):
        raise NotFound(f"no organisation {org_id}", [FieldError("organisation_id", "not found")])
    actor.require(org.path, Role.ADMIN)
    return org


def _admin_select(actor: Actor, model: Any) -> Select[Any]:
    return (
        select(model)
        .join(Organisation, Organisation.id == model.organisation_id)
        .where(in_scope(actor))
    )


# Rules


def rules_select(actor: Actor) -> Select[Any]:
    return _admin_select(actor, AlertRule)


def get_rule(session: Session, actor: Actor, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id) if 0 < rule_id <= MAX_ID else None
    org = session.get(Organisation, rule.organisation_id) if rule else None
    if rule is None or org is None or not actor.sees(org.path):
        raise NotFound(f"no alert rule {rule_id}")
    actor.require(org.path, Role.ADMIN)
    return rule


def create_rule(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    organisation_id: int,
    kind: AlertKind,
    minutes: int,
    min_free_bytes: int = 0,
    enabled: bool = True,
) -> AlertRule:
    _org(session, actor, organisation_id)
    rule = AlertRule(
        organisation_id=organisation_id,
        kind=kind,
        minutes=minutes,
        min_free_bytes=min_free_bytes,
        enabled=enabled,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(rule)
    except IntegrityError:
        raise Conflict(
            f"the organisation has a {kind.value} rule already; change that one",
            [FieldError("kind", "already has a rule of this kind")],
        ) from None
    audit.changed(session, actor, now, "create", rule, after=rule_summary(rule))
    return rule


def update_rule(
    session: Session, actor: Actor, now: datetime, rule_id: int, changes: Mapping[str, Any]
) -> AlertRule:
    rule = get_rule(session, actor, rule_id)
    before = rule_summary(rule)
    for key in RULE_FIELDS:
        if key in changes:
            setattr(rule, key, changes[key])
    audit.changed(session, actor, now, "update", rule, before=before, after=rule_summary(rule))
    return rule


def delete_rule(session: Session, actor: Actor, now: datetime, rule_id: int) -> None:
    rule = get_rule(session, actor, rule_id)
    audit.changed(session, actor, now, "delete", rule, before=rule_summary(rule))
    session.delete(rule)


def rule_summary(rule: AlertRule) -> dict[str, Any]:
    return {"kind": rule.kind.value, **{k: getattr(rule, k) for k in RULE_FIELDS}}


# Channels


def channels_select(actor: Actor) -> Select[Any]:
    return _admin_select(actor, AlertChannel)


def get_channel(session: Session, actor: Actor, channel_id: int) -> AlertChannel:
    channel = session.get(AlertChannel, channel_id) if 0 < channel_id <= MAX_ID else None
    org = session.get(Organisation, channel.organisation_id) if channel else None
    if channel is None or org is None or not actor.sees(org.path):
        raise NotFound(f"no alert channel {channel_id}")
    actor.require(org.path, Role.ADMIN)
    return channel


def check_channel(kind: ChannelKind, target: str, secret: str, locale: str) -> None:
    """Refuse a channel that could never deliver, naming the field."""
    errors = []
    if kind is ChannelKind.WEBHOOK:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(FieldError("target", "an http:// or https:// URL"))
        if len(secret) < 16:
            errors.append(FieldError("secret", "at least 16 characters (it signs each call)"))
    elif not EMAIL.match(target):
        errors.append(FieldError("target", "an e-mail address"))
    if locale not in LOCALES:
        errors.append(FieldError("locale", f"one of: {', '.join(LOCALES)}"))
    if errors:
        raise ValidationFailed("this channel could not deliver", errors)


def create_channel(
    session: Session,
    actor: Actor,
    now: datetime,
    *,
    organisation_id: int,
    name: str,
    kind: ChannelKind,
    target: str,
    secret: str = "",
    locale: str = "en",
    enabled: bool = True,
) -> AlertChannel:
    _org(session, actor, organisation_id)
    check_channel(kind, target, secret, locale)
    channel = AlertChannel(
        organisation_id=organisation_id,
        name=name,
        kind=kind,
        target=target,
        secret=secret,
        locale=locale,
        enabled=enabled,
        created_at=now,
    )
    session.add(channel)
    session.flush()
    audit.changed(session, actor, now, "create", channel, after=channel_summary(channel))
    return channel


def update_channel(
    session: Session, actor: Actor, now: datetime, channel_id: int, changes: Mapping[str, Any]
) -> AlertChannel:
    channel = get_channel(session, actor, channel_id)
    before = channel_summary(channel)
    for key in CHANNEL_FIELDS:
        if key in changes:
            setattr(channel, key, changes[key])
    check_channel(channel.kind, channel.target, channel.secret, channel.locale)
    after = channel_summary(channel)
    audit.changed(session, actor, now, "update", channel, before=before, after=after)
    return channel


def delete_channel(session: Session, actor: Actor, now: datetime, channel_id: int) -> None:
    channel = get_channel(session, actor, channel_id)
    audit.changed(session, actor, now, "delete", channel, before=channel_summary(channel))
    session.delete(channel)


def channel_summary(channel: AlertChannel) -> dict[str, Any]:
    # Never the secret itself: the audit log is read by more people than admins.
    return {
        "name": channel.name,
        "kind": channel.kind.value,
        "target": channel.target,
        "locale": channel.locale,
        "enabled": channel.enabled,
        "secret_set": bool(channel.secret),
    }


# Incidents


def incidents_select(
    actor: Actor, now: datetime, state: str = "current", organisation_id: int | None = None
) -> Select[Any]:
    """Incidents the actor may read, with their screen and organisation names.

    `current`: open ones and those resolved in the last seven days; `open`; `all`.
    Pending ones (a condition that has not yet held long enough) are not incidents yet.
    """
    stmt = (
        select(Incident)
        .join(Organisation, Organisation.id == Incident.organisation_id)
        .where(in_scope(actor), Incident.opened_at.is_not(None))
    )
    if state == "open":
        stmt = stmt.where(Incident.resolved_at.is_(None))
    elif state == "current":
        stmt = stmt.where((Incident.resolved_at.is_(None)) | (Incident.resolved_at >= now - RECENT))
    if organisation_id is not None:
        stmt = stmt.where(Organisation.id == organisation_id)
    return stmt
