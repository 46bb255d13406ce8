"""What applying a campaign file would change, and the conflicts it would bring to screens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.campaigns.describe import (
    Names,
    describe_entry,
    describe_item,
    describe_targets,
)
from server.campaigns.files.bind import Bound
from server.campaigns.files.notes import Note, campaign_notes, date_notes
from server.campaigns.files.scene import Scene, scene
from server.campaigns.files.schema import CampaignSpec
from server.campaigns.files.state import CampaignState, from_campaign
from server.campaigns.models import Campaign
from server.playlists.models import Playlist
from server.scheduling import Schedule, find_conflicts


@dataclass(frozen=True)
class Change:
    op: str  # "+" added, "-" removed, "~" changed
    what: str
    detail: str

    def render(self) -> str:
        return f"{self.op} {self.what}: {self.detail}"


@dataclass(frozen=True)
class ConflictNote:
    """Rules tied for some screens over one stretch; the first rule plays."""

    start: datetime
    end: datetime
    screens: tuple[str, ...]
    rules: tuple[str, ...]  # descriptions, the winner first
    detail: str


@dataclass
class Plan:
    campaign: str
    organisation: str
    timezone: str
    new: bool
    status: str | None
    changes: list[Change] = field(default_factory=list)
    conflicts: list[ConflictNote] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def existing_campaign(session: Session, org_id: int, name: str) -> Campaign | None:
    return session.scalar(
        select(Campaign).where(Campaign.organisation_id == org_id, Campaign.name == name)
    )


def current_state(session: Session, campaign: Campaign) -> CampaignState:
    own = list(session.scalars(select(Playlist).where(Playlist.campaign_id == campaign.id)))
    return from_campaign(campaign, own)


def diff(current: CampaignState | None, desired: CampaignState, names: Names) -> list[Change]:
    """The changes that turn `current` (None: nothing yet) into `desired`."""
    out: list[Change] = []
    if current is None:
        out.append(Change("+", "campaign", desired.name))
    before = current.header() if current else {}
    for key, value in desired.header().items():
        old = before.get(key)
        if current is None or old != value:
            shown = describe_targets(value, names) if key == "targets" else value
            if current is None:
                if value not in ("", None):
                    out.append(Change("+", f"campaign.{key}", str(shown)))
            else:
                was = describe_targets(old or {}, names) if key == "targets" else old
                out.append(Change("~", f"campaign.{key}", f"{was} → {shown}"))
    old_playlists = current.playlists if current else {}
    for name, items in desired.playlists.items():
        old_items = old_playlists.get(name)
        if old_items is None:
            out.append(Change("+", f"playlist {name}", f"{len(items)} items"))
            out.extend(
                Change("+", f"playlist {name} item {i + 1}", describe_item(item))
                for i, item in enumerate(items)
            )
            continue
        for i in range(max(len(items), len(old_items))):
            new = items[i] if i < len(items) else None
            old = old_items[i] if i < len(old_items) else None
            what = f"playlist {name} item {i + 1}"
            if old is None and new is not None:
                out.append(Change("+", what, describe_item(new)))
            elif new is None and old is not None:
                out.append(Change("-", what, describe_item(old)))
            elif old != new and old is not None and new is not None:
                out.append(Change("~", what, f"{describe_item(old)} → {describe_item(new)}"))
    for name, items in old_playlists.items():
        if name not in desired.playlists:
            out.append(Change("-", f"playlist {name}", f"{len(items)} items"))
    old_entries = current.entries if current else ()
    tz = desired.timezone
    for i in range(max(len(desired.entries), len(old_entries))):
        new_e = desired.entries[i] if i < len(desired.entries) else None
        old_e = old_entries[i] if i < len(old_entries) else None
        what = f"schedule[{i}]"
        if old_e is None and new_e is not None:
            out.append(Change("+", what, describe_entry(new_e, tz, names)))
        elif new_e is None and old_e is not None:
            out.append(
                Change("-", what, describe_entry(old_e, current.timezone if current else tz, names))
            )
        elif old_e != new_e and old_e is not None and new_e is not None:
            out.append(
                Change(
                    "~",
                    what,
                    f"{describe_entry(old_e, tz, names)} → {describe_entry(new_e, tz, names)}",
                )
            )
    return out


def conflicts(scene: Scene, state: CampaignState) -> list[ConflictNote]:
    """Ties between the campaign's rules (as if published now) and what is published."""
    if not scene.screens or not scene.mine:
        return []
    names = {s.id: s.name for s in scene.screens}
    found = find_conflicts(
        Schedule([*scene.mine, *scene.others]), scene.facts, scene.start, scene.end
    )
    grouped: dict[tuple[datetime, datetime, tuple[str, ...]], tuple[list[str], str]] = {}
    for c in found:
        stretch = (c.start, c.end, c.rules)
        grouped.setdefault(stretch, ([], c.detail))[0].append(names.get(c.screen, f"#{c.screen}"))
    local = ZoneInfo(state.timezone)
    return [
        ConflictNote(
            start=s.astimezone(local),
            end=e.astimezone(local),
            screens=tuple(screen_names),
            rules=tuple(scene.label.get(r, r) for r in rules),
            detail=_named(detail, rules, scene.short),
        )
        for (s, e, rules), (screen_names, detail) in sorted(grouped.items())
    ]


def _named(detail: str, rules: tuple[str, ...], short: dict[str, str]) -> str:
    """The engine's detail with rule ids replaced by what the operator calls them."""
    for rule in rules:
        if rule in short:
            detail = detail.replace(repr(rule), short[rule])
    return detail


def make_plan(
    session: Session, bound: Bound, now: datetime, spec: CampaignSpec | None = None
) -> Plan:
    """Changes and conflicts of applying `bound`; reads only."""
    state = bound.state
    names = Names(session)
    campaign = existing_campaign(session, bound.organisation.id, state.name)
    current = current_state(session, campaign) if campaign else None
    plan = Plan(
        campaign=state.name,
        organisation=bound.organisation.name,
        timezone=state.timezone,
        new=campaign is None,
        status=campaign.status.value if campaign else None,
        changes=diff(current, state, names),
    )
    seen = scene(session, bound.organisation, state, campaign.id if campaign else 0, now)
    plan.conflicts = conflicts(seen, state)
    plan.notes = campaign_notes(seen, state, bound.organisation, spec, now)
    return plan


def file_notes(
    session: Session | None, checked_spec: CampaignSpec, bound: Bound | None, now: datetime
) -> list[Note]:
    """The notes `campaign check` prints: only the dates' without a database."""
    if session is None or bound is None:
        spec = checked_spec
        return date_notes(spec.start, spec.end, spec.timezone, now, spec)
    state = bound.state
    campaign = existing_campaign(session, bound.organisation.id, state.name)
    seen = scene(session, bound.organisation, state, campaign.id if campaign else 0, now)
    return campaign_notes(seen, state, bound.organisation, checked_spec, now)


def render_plan(plan: Plan) -> list[str]:
    head = f"campaign {plan.campaign!r} in {plan.organisation!r}: "
    if plan.new:
        head += "new (would be created as a draft)"
    elif plan.changes:
        head += f"{plan.status}, {len(plan.changes)} changes (would go back to draft)"
    else:
        head += f"{plan.status}, no changes"
    lines = [head]
    lines.extend("  " + c.render() for c in plan.changes)
    if plan.conflicts:
        lines.append(f"conflicts ({len(plan.conflicts)}), times in {plan.timezone}:")
        for c in plan.conflicts:
            shown = ", ".join(c.screens[:5]) + (
                f" and {len(c.screens) - 5} more" if len(c.screens) > 5 else ""
            )
            lines.append(
                f"  {c.start:%Y-%m-%d %H:%M} .. {c.end:%Y-%m-%d %H:%M} on {shown}: {c.detail}"
            )
            lines.extend(f"    {'plays' if i == 0 else 'tied'}: {r}" for i, r in enumerate(c.rules))
    else:
        lines.append("no conflicts")
    return lines
