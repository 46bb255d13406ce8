"""Campaigns and schedule entries edited one field at a time (the API's side of campaigns).

Every edit is checked, audited, and sends the campaign back to draft: what is published
stays on screens until the campaign is published again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.auth import audit
from server.auth.actors import Actor
from server.auth.scope import readable_org_clause, reads
from server.campaigns.models import Campaign, CampaignStatus, ScheduleEntry
from server.campaigns.snapshot import is_empty_targets, normal_targets
from server.campaigns.workflow import back_to_draft, is_live
from server.db import MAX_ID
from server.errors import Conflict, FieldError, NotFound, ValidationFailed
from server.playlists.models import Playlist
from server.scheduling import DailyWindow, Layer, Rule, Targets, check_rule
from server.scheduling.localtime import check_zone
from server.screens.models import Group, Screen


def get_campaign(
    session: Session, actor: Actor, campaign_id: int, role: Role = Role.VIEWER
) -> Campaign:
    """A campaign the actor may read (its subtree or an ancestor's); with `role`, act on."""
    campaign = session.get(Campaign, campaign_id) if 0 < campaign_id <= MAX_ID else None
    org = session.get(Organisation, campaign.organisation_id) if campaign else None
    if campaign is None or org is None or not reads(actor, org):
        raise NotFound(f"no campaign {campaign_id}")
    if role is not Role.VIEWER:
        actor.require(org.path, role)
    return campaign


@dataclass(frozen=True)
class CampaignFilter:
    organisation_id: int | None = None
    status: str | None = None
    name: str | None = None


def campaigns_select(actor: Actor, filters: CampaignFilter) -> Select[Any]:
    stmt = (
        select(Campaign)
        .join(Organisation, Organisation.id == Campaign.organisation_id)
        .where(readable_org_clause(actor))
    )
    if filters.organisation_id is not None:
        stmt = stmt.where(Campaign.organisation_id == filters.organisation_id)
    if filters.status is not None:
        stmt = stmt.where(Campaign.status == CampaignStatus(filters.status))
    if filters.name:
        stmt = stmt.where(Campaign.name.contains(filters.name, autoescape=True))
    return stmt


def check_targets(
    session: Session, org: Organisation, targets: Mapping[str, Any], field: str
) -> dict[str, Any]:
    """Targets with every id inside `org`'s subtree, normalised; ValidationFailed otherwise."""
    t = normal_targets(dict(targets))
    errors: list[FieldError] = []
    subtree = Organisation.path.startswith(org.path)
    queries: dict[str, Select[Any]] = {
        "organisations": select(Organisation.id).where(
            Organisation.id.in_(t["organisations"]), subtree
        ),
        "groups": select(Group.id)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(Group.id.in_(t["groups"]), subtree),
        "screens": select(Screen.id)
        .join(Organisation, Organisation.id == Screen.organisation_id)
        .where(Screen.id.in_(t["screens"]), subtree),
    }
    for key, stmt in queries.items():
        ids = t[key]
        if not ids:
            continue
        found = set(session.scalars(stmt))
        errors.extend(
            FieldError(f"{field}.{key}", f"{i} is not in {org.name!r} or below")
            for i in ids
            if i not in found
        )
    if errors:
        raise ValidationFailed("targets outside the campaign's organisation", errors)
    return t


def _header(campaign: Campaign) -> dict[str, Any]:
    return {
        "name": campaign.name,
        "description": campaign.description,
        "timezone": campaign.timezone,
        "start_date": campaign.start_date.isoformat(),
        "end_date": campaign.end_date.isoformat(),
        "targets": campaign.targets,
    }


def _check_header(values: Mapping[str, Any]) -> None:
    errors = []
    zone_problem = check_zone(values["timezone"])
    if zone_problem:
        errors.append(FieldError("timezone", zone_problem))
    if values["end_date"] < values["start_date"]:
        errors.append(FieldError("end_date", "is before start_date"))
    if errors:
        raise ValidationFailed("invalid campaign", errors)


def _name_free(session: Session, org_id: int, name: str, keep: int | None = None) -> None:
    other = session.scalar(
        select(Campaign.id).where(Campaign.organisation_id == org_id, Campaign.name == name)
    )
    if other is not None and other != keep:
        raise Conflict(f"a campaign {name!r} exists", [FieldError("name", "already taken")])


def create_campaign(
    session: Session, actor: Actor, now: datetime, values: Mapping[str, Any]
) -> Campaign:
    org = session.get(Organisation, values["organisation_id"])
    if org is None or not actor.sees(org.path):
        raise NotFound(f"no organisation {values['organisation_id']}")
    actor.require(org.path, Role.OPERATOR)
    _check_header(values)
    _name_free(session, org.id, values["name"])
    campaign = Campaign(
        organisation_id=org.id,
        name=values["name"],
        description=values.get("description", ""),
        timezone=values["timezone"],
        start_date=values["start_date"],
        end_date=values["end_date"],
        targets=check_targets(session, org, values.get("targets") or {"everyone": True}, "targets"),
        status=CampaignStatus.DRAFT,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    session.flush()
    audit.changed(session, actor, now, "create", campaign, after=_header(campaign))
    return campaign


def update_campaign(
    session: Session, actor: Actor, now: datetime, campaign_id: int, changes: Mapping[str, Any]
) -> Campaign:
    campaign = get_campaign(session, actor, campaign_id, Role.OPERATOR)
    org = session.get(Organisation, campaign.organisation_id)
    assert org is not None
    before = _header(campaign)
    values = {
        "timezone": changes.get("timezone", campaign.timezone),
        "start_date": changes.get("start_date", campaign.start_date),
        "end_date": changes.get("end_date", campaign.end_date),
    }
    _check_header(values)
    if "name" in changes:
        _name_free(session, campaign.organisation_id, changes["name"], campaign.id)
        campaign.name = changes["name"]
    if "description" in changes:
        campaign.description = changes["description"]
    campaign.timezone = values["timezone"]
    campaign.start_date = values["start_date"]
    campaign.end_date = values["end_date"]
    if "targets" in changes:
        campaign.targets = check_targets(session, org, changes["targets"], "targets")
    after = _header(campaign)
    if after != before:
        _edited(campaign, now, actor)
        audit.changed(session, actor, now, "update", campaign, before=before, after=after)
    return campaign


def _edited(campaign: Campaign, now: datetime, actor: Actor) -> None:
    campaign.updated_at = now
    if campaign.status is not CampaignStatus.DRAFT:
        back_to_draft(campaign, f"campaign edited by {actor.label}")
    else:
        back_to_draft(campaign)


def delete_campaign(session: Session, actor: Actor, now: datetime, campaign_id: int) -> None:
    campaign = get_campaign(session, actor, campaign_id, Role.OPERATOR)
    if is_live(session, campaign.id):
        raise Conflict(
            "the campaign is published: archive it first", [FieldError("status", "published")]
        )
    audit.changed(session, actor, now, "delete", campaign, before=_header(campaign))
    session.delete(campaign)
    session.flush()


# --- schedule entries ------------------------------------------------------------------


def _entry_values(entry: ScheduleEntry) -> dict[str, Any]:
    return {
        "position": entry.position,
        "playlist_id": entry.playlist_id,
        "targets": entry.targets,
        "first_date": entry.first_date.isoformat() if entry.first_date else None,
        "last_date": entry.last_date.isoformat() if entry.last_date else None,
        "weekdays": entry.weekdays,
        "windows": entry.windows,
        "interval_start": entry.interval_start.isoformat() if entry.interval_start else None,
        "interval_end": entry.interval_end.isoformat() if entry.interval_end else None,
        "screen_local": entry.screen_local,
        "priority": entry.priority,
        "layer": entry.layer,
    }


def _check_entry(session: Session, campaign: Campaign, entry: ScheduleEntry) -> None:
    """The entry's playlist is usable and the engine accepts the rule it makes."""
    playlist = session.get(Playlist, entry.playlist_id)
    org = session.get(Organisation, campaign.organisation_id)
    assert org is not None
    usable = playlist is not None and (
        playlist.campaign_id == campaign.id
        or (playlist.campaign_id is None and playlist.organisation_id in org.ancestor_ids)
    )
    if not usable:
        raise ValidationFailed(
            f"playlist {entry.playlist_id} cannot be scheduled by this campaign",
            [FieldError("playlist_id", "not the campaign's, nor a standalone playlist above it")],
        )
    if not is_empty_targets(entry.targets):
        entry.targets = check_targets(session, org, entry.targets, "targets")
    else:
        entry.targets = {}
    errors: list[FieldError] = []
    first = entry.first_date or campaign.start_date
    last = entry.last_date or campaign.end_date
    span = f"the campaign's dates ({campaign.start_date} to {campaign.end_date})"
    if not campaign.start_date <= first <= campaign.end_date:
        errors.append(FieldError("first_date", f"outside {span}"))
    if not campaign.start_date <= last <= campaign.end_date:
        errors.append(FieldError("last_date", f"outside {span}"))
    if (entry.interval_start is None) != (entry.interval_end is None):
        errors.append(FieldError("interval_end", "give both interval_start and interval_end"))
    rule = Rule(
        id="entry",
        playlist="p",
        owner_org=org.id,
        targets=Targets(everyone=True),
        first_date=first,
        last_date=last,
        timezone=None if entry.screen_local else campaign.timezone,
        weekdays=frozenset(entry.weekdays) if entry.weekdays is not None else None,
        windows=tuple(
            DailyWindow(time.fromisoformat(s), time.fromisoformat(e)) for s, e in entry.windows
        ),
        interval=(
            (entry.interval_start, entry.interval_end)
            if entry.interval_start and entry.interval_end
            else None
        ),
        priority=entry.priority,
        layer=Layer.TAKEOVER if entry.layer == "takeover" else Layer.NORMAL,
    )
    errors.extend(
        FieldError(p.field.replace("interval.", "interval_"), p.reason) for p in check_rule(rule)
    )
    if errors:
        raise ValidationFailed("invalid schedule entry", errors)


def get_entry(campaign: Campaign, entry_id: int) -> ScheduleEntry:
    for entry in campaign.entries:
        if entry.id == entry_id:
            return entry
    raise NotFound(f"no entry {entry_id} in campaign {campaign.id}")


def add_entry(
    session: Session, actor: Actor, now: datetime, campaign_id: int, values: Mapping[str, Any]
) -> ScheduleEntry:
    campaign = get_campaign(session, actor, campaign_id, Role.OPERATOR)
    entry = ScheduleEntry(**_entry_fields(values))
    entry.position = max((e.position for e in campaign.entries), default=-1) + 1
    _check_entry(session, campaign, entry)
    campaign.entries.append(entry)
    session.flush()
    _edited(campaign, now, actor)
    audit.changed(
        session, actor, now, "update", campaign, after={"added_entry": _entry_values(entry)}
    )
    return entry


def update_entry(
    session: Session,
    actor: Actor,
    now: datetime,
    campaign_id: int,
    entry_id: int,
    changes: Mapping[str, Any],
) -> ScheduleEntry:
    campaign = get_campaign(session, actor, campaign_id, Role.OPERATOR)
    entry = get_entry(campaign, entry_id)
    before = _entry_values(entry)
    with session.no_autoflush:  # the edited entry is written only once it is known good
        for key, value in _entry_fields(changes).items():
            setattr(entry, key, value)
        _check_entry(session, campaign, entry)
    after = _entry_values(entry)
    if after != before:
        _edited(campaign, now, actor)
        audit.changed(
            session,
            actor,
            now,
            "update",
            campaign,
            before={"entry": entry.id, **before},
            after={"entry": entry.id, **after},
        )
    return entry


def delete_entry(
    session: Session, actor: Actor, now: datetime, campaign_id: int, entry_id: int
) -> None:
    campaign = get_campaign(session, actor, campaign_id, Role.OPERATOR)
    entry = get_entry(campaign, entry_id)
    audit.changed(
        session, actor, now, "update", campaign, before={"removed_entry": _entry_values(entry)}
    )
    campaign.entries.remove(entry)
    _edited(campaign, now, actor)
    session.flush()


_ENTRY_KEYS = (
    "playlist_id",
    "targets",
    "first_date",
    "last_date",
    "weekdays",
    "windows",
    "interval_start",
    "interval_end",
    "screen_local",
    "priority",
    "layer",
)


def _entry_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: values[k] for k in _ENTRY_KEYS if k in values}
    if "windows" in out:
        out["windows"] = [[w[0], w[1]] for w in out["windows"]]
    if "weekdays" in out and out["weekdays"] is not None:
        out["weekdays"] = sorted(set(out["weekdays"]))
    if "targets" in out:
        out["targets"] = dict(out["targets"] or {})
    return out


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None
