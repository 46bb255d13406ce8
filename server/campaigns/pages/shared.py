"""What the campaign pages share: their blueprint, who may do what to a campaign, and the
campaign as the pages show it (its playlists, entries and the choices its editor offers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from flask import Blueprint, current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.assets.models import Asset
from server.assets.services import AssetFilter, assets_select
from server.auth.actors import ROLE_RANK, Actor
from server.campaigns import workflow
from server.campaigns.history import why_draft
from server.campaigns.models import Campaign
from server.config import Settings
from server.db import get_session
from server.playlists.models import Playlist
from server.screens.models import Group, Screen
from server.web.frame import actor

bp = Blueprint("campaigns_pages", __name__, template_folder="../templates")
CHOICES: Final = 1000
LIBRARY: Final = 500


def settings() -> Settings:
    value: Settings = current_app.config["SIGNAGE"]
    return value


def at_least(who: Actor, org: Organisation, role: Role) -> bool:
    have = who.role_in(org.path)
    return have is not None and ROLE_RANK[have] >= ROLE_RANK[role]


def operated(db: Session, who: Actor) -> list[Organisation]:
    """Organisations the actor may write campaigns for."""
    orgs = db.scalars(select(Organisation).order_by(Organisation.path))
    return [o for o in orgs if who.sees(o.path) and at_least(who, o, Role.OPERATOR)]


@dataclass(frozen=True)
class Names:
    """Names of the things an entry's targets point at, by id."""

    organisations: dict[int, str]
    groups: dict[int, str]
    screens: dict[int, str]


def playlists_of(db: Session, campaign: Campaign) -> list[Playlist]:
    """The campaign's own playlists, then the standalone ones its entries schedule."""
    own = list(
        db.scalars(
            select(Playlist).where(Playlist.campaign_id == campaign.id).order_by(Playlist.name)
        )
    )
    seen = {p.id for p in own}
    shared = []
    for entry in campaign.entries:
        if entry.playlist_id not in seen:
            seen.add(entry.playlist_id)
            shared.append(entry.playlist)
    return own + shared


def schedulable(db: Session, campaign: Campaign, org: Organisation) -> list[Playlist]:
    """Playlists an entry of the campaign may play: its own, or standalone ones above it."""
    return list(
        db.scalars(
            select(Playlist)
            .where(
                (Playlist.campaign_id == campaign.id)
                | (Playlist.campaign_id.is_(None) & Playlist.organisation_id.in_(org.ancestor_ids))
            )
            .order_by(Playlist.campaign_id.is_(None), Playlist.name)
        )
    )


def names_below(db: Session, org: Organisation) -> Names:
    """Organisations, groups and screens in the campaign's subtree (what entries may target)."""
    below = Organisation.path.startswith(org.path)
    orgs = db.execute(select(Organisation.id, Organisation.name).where(below).limit(CHOICES))
    groups = db.execute(
        select(Group.id, Group.name)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(below)
        .order_by(Group.name)
        .limit(CHOICES)
    )
    screens = db.execute(
        select(Screen.id, Screen.name)
        .join(Organisation, Organisation.id == Screen.organisation_id)
        .where(below)
        .order_by(Screen.name)
        .limit(CHOICES)
    )
    return Names(dict(orgs.all()), dict(groups.all()), dict(screens.all()))


def library(db: Session, who: Actor, org: Organisation) -> list[Asset]:
    """Media the campaign's playlists may use: of its organisation or one above it."""
    rows = db.execute(
        assets_select(who, AssetFilter())
        .add_columns(Organisation.path)
        .order_by(Asset.id.desc())
        .limit(LIBRARY)
    ).all()
    return [asset for asset, path in rows if org.path.startswith(path)]


def entry_words(entry: Any, names: Names) -> dict[str, Any]:
    """An entry's targets as names, for the readable schedule table."""
    t = entry.targets or {}
    return {
        "everyone": bool(t.get("everyone")),
        "campaign": not t,
        "organisations": [names.organisations.get(i, f"#{i}") for i in t.get("organisations", [])],
        "groups": [names.groups.get(i, f"#{i}") for i in t.get("groups", [])],
        "screens": [names.screens.get(i, f"#{i}") for i in t.get("screens", [])],
        "tags": list(t.get("tags", [])),
    }


def day_names() -> list[str]:
    """Weekdays as entries store them: 0 is Monday."""
    return [_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun")]


def status_words() -> dict[str, str]:
    return {
        "draft": _("draft"),
        "submitted": _("submitted"),
        "approved": _("approved"),
        "published": _("published"),
        "archived": _("archived"),
    }


def campaign_context(campaign: Campaign) -> dict[str, Any]:
    """What the campaign's page and its editor both show."""
    who, db = actor(), get_session()
    org = db.get(Organisation, campaign.organisation_id)
    assert org is not None
    names = names_below(db, org)
    return {
        "campaign": campaign,
        "org": org,
        "why": why_draft(db, campaign),
        "playlists": playlists_of(db, campaign),
        "entries": [(e, entry_words(e, names)) for e in campaign.entries],
        "default_targets": entry_words(campaign, names),
        "statuses": status_words(),
        "day_keys": day_names(),
        "may_edit": at_least(who, org, Role.OPERATOR),
        "may_approve": at_least(who, org, Role.APPROVER),
        "live": workflow.is_live(db, campaign.id),
    }
