"""What screens play: the rules and playlists of published content, read from publications.

Each publish records a snapshot of the campaign (see `server.campaigns.snapshot`); a
snapshot is live from its publication's `effective_at` until a later publication of the
same campaign takes effect. Drafts and edits never reach this module. Default playlists
(standalone playlists flagged `is_default`) are read as they are: changing one bumps the
content version.

Keys (stable for a given database state, so manifests stay deterministic):
- rule id: ``c{campaign}.p{publication}.e{index}`` (index into the snapshot's entries);
- campaign playlist: ``c{campaign}.p{publication}.l{playlist}``;
- default playlist: ``default.l{playlist}``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.campaigns import versions as content_version
from server.campaigns.models import Publication
from server.playlists.models import Playlist
from server.scheduling import DailyWindow, Layer, Rule, ScreenFacts, Targets, check_rule
from server.screens.models import Group, GroupMember, Screen

log = logging.getLogger(__name__)

# Publications that stopped being live longer ago than this are not loaded: a manifest
# reaches back at most to the screen's local midnight, never more than a day and a bit.
LOOKBACK = timedelta(days=2)


@dataclass(frozen=True)
class ItemContent:
    asset_id: int
    sha256: str
    kind: str  # "image", "video" or "slogan"
    duration_ms: int
    fit: str
    transition: str


@dataclass(frozen=True)
class PlaylistContent:
    key: str
    name: str
    campaign: str | None
    items: tuple[ItemContent, ...]


@dataclass(frozen=True)
class PublishedContent:
    """Everything published that can be on a screen from `now - LOOKBACK` on."""

    version: int  # server.campaigns.versions.current()
    rules: tuple[Rule, ...]  # with live_from/live_until from the publications
    playlists: Mapping[str, PlaylistContent]  # keyed by Rule.playlist, default playlists too
    # organisation id -> key of that organisation's own default playlist
    defaults: Mapping[int, str] = field(default_factory=dict)


def rule_id(campaign_id: int, publication_id: int, index: int) -> str:
    return f"c{campaign_id}.p{publication_id}.e{index}"


def parse_rule_id(value: str) -> tuple[int, int, int] | None:
    """(campaign id, publication id, entry index) of a rule id made by `rule_id`."""
    parts = value.split(".")
    if len(parts) != 3 or [p[:1] for p in parts] != ["c", "p", "e"]:
        return None
    try:
        return int(parts[0][1:]), int(parts[1][1:]), int(parts[2][1:])
    except ValueError:
        return None


def playlist_key(campaign_id: int, publication_id: int, playlist_id: int | str) -> str:
    return f"c{campaign_id}.p{publication_id}.l{playlist_id}"


def default_key(playlist_id: int) -> str:
    return f"default.l{playlist_id}"


@dataclass(frozen=True)
class LiveSnapshot:
    """One publication's snapshot and the stretch of time it is in force."""

    publication_id: int
    campaign_id: int
    published_at: datetime
    live_from: datetime | None
    live_until: datetime | None
    snapshot: dict[str, Any]


def live_snapshots(session: Session, since: datetime) -> list[LiveSnapshot]:
    """Publish snapshots in force at some instant from `since` on, by publication id.

    A publication is in force from its `effective_at` until the earliest `effective_at`
    of any later publication of the same campaign (a later emergency publish that takes
    effect sooner cuts it short, or means it never takes effect at all).
    """
    rows = session.execute(
        select(
            Publication.id,
            Publication.campaign_id,
            Publication.action,
            Publication.published_at,
            Publication.effective_at,
        )
        .where(Publication.campaign_id.is_not(None))
        .order_by(Publication.campaign_id, Publication.id.desc())
    ).all()
    wanted: dict[int, tuple[int, datetime, datetime, datetime | None]] = {}
    campaign: int | None = None
    cut: datetime | None = None  # earliest effective_at among later publications
    for pub_id, campaign_id, action, published_at, effective_at in rows:
        if campaign_id != campaign:
            campaign, cut = campaign_id, None
        live_until = cut
        cut = effective_at if cut is None else min(cut, effective_at)
        if action != "publish" or campaign_id is None:
            continue
        if live_until is not None and (live_until <= effective_at or live_until <= since):
            continue
        wanted[pub_id] = (campaign_id, published_at, effective_at, live_until)
    if not wanted:
        return []
    snapshots: dict[int, dict[str, Any] | None] = {
        pub_id: snap
        for pub_id, snap in session.execute(
            select(Publication.id, Publication.snapshot).where(Publication.id.in_(list(wanted)))
        )
    }
    out = []
    for pub_id in sorted(wanted):
        campaign_id, published_at, effective_at, live_until = wanted[pub_id]
        snap = snapshots.get(pub_id)
        if snap:
            out.append(
                LiveSnapshot(pub_id, campaign_id, published_at, effective_at, live_until, snap)
            )
    return out


def load_published(session: Session, now: datetime) -> PublishedContent:
    """The published rules and playlists that matter from `now - LOOKBACK` on.

    Runs when a manifest is compiled (once per content version and screen fingerprint),
    not on every poll: a handful of queries, no per-screen work.
    """
    version = content_version.current(session)
    rules: list[Rule] = []
    playlists: dict[str, PlaylistContent] = {}
    for live in live_snapshots(session, now - LOOKBACK):
        built_rules, built_playlists = rules_from_snapshot(live)
        rules.extend(built_rules)
        playlists.update(built_playlists)
    defaults: dict[int, str] = {}
    for playlist in session.scalars(
        select(Playlist)
        .where(Playlist.is_default.is_(True), Playlist.campaign_id.is_(None))
        .order_by(Playlist.id)
    ):
        key = default_key(playlist.id)
        playlists[key] = PlaylistContent(
            key=key,
            name=playlist.name,
            campaign=None,
            items=tuple(
                ItemContent(
                    asset_id=item.asset_id,
                    sha256=item.asset.sha256,
                    kind=str(item.asset.kind),
                    duration_ms=item.duration_ms,
                    fit=item.fit,
                    transition=item.transition,
                )
                for item in playlist.items
            ),
        )
        defaults.setdefault(playlist.organisation_id, key)
    return PublishedContent(
        version=version, rules=tuple(rules), playlists=playlists, defaults=defaults
    )


def rules_from_snapshot(live: LiveSnapshot) -> tuple[list[Rule], dict[str, PlaylistContent]]:
    """The engine rules and the playlists of one live snapshot; bad entries are skipped."""
    snap = live.snapshot
    camp = snap["campaign"]
    name: str = camp["name"]
    playlists: dict[str, PlaylistContent] = {}
    for pl_id, pl in snap["playlists"].items():
        key = playlist_key(live.campaign_id, live.publication_id, pl_id)
        items = tuple(
            ItemContent(
                asset_id=int(i["asset_id"]),
                sha256=str(i["sha256"]),
                kind=str(i["kind"]),
                duration_ms=int(i["duration_ms"]),
                fit=str(i["fit"]),
                transition=str(i["transition"]),
            )
            for i in pl["items"]
        )
        playlists[key] = PlaylistContent(key=key, name=pl["name"], campaign=name, items=items)
    rules: list[Rule] = []
    for index, entry in enumerate(snap["entries"]):
        key = playlist_key(live.campaign_id, live.publication_id, entry["playlist_id"])
        if key not in playlists or not playlists[key].items:
            continue  # an empty playlist plays nothing: the entry cannot win a screen
        rule = _rule(live, index, entry, camp, key)
        problems = check_rule(rule)
        if problems:
            log.warning("skipping rule %s: %s: %s", rule.id, *problems[0])
            continue
        rules.append(rule)
    return rules, playlists


def _rule(
    live: LiveSnapshot, index: int, entry: dict[str, Any], camp: dict[str, Any], key: str
) -> Rule:
    targets = entry["targets"]
    interval = None
    if entry.get("interval_start") and entry.get("interval_end"):
        interval = (
            datetime.fromisoformat(entry["interval_start"]),
            datetime.fromisoformat(entry["interval_end"]),
        )
    weekdays = entry.get("weekdays")
    return Rule(
        id=rule_id(live.campaign_id, live.publication_id, index),
        playlist=key,
        owner_org=int(camp["organisation_id"]),
        targets=Targets(
            everyone=bool(targets.get("everyone", False)),
            organisations=frozenset(int(i) for i in targets.get("organisations", ())),
            groups=frozenset(int(i) for i in targets.get("groups", ())),
            tags=frozenset(str(t) for t in targets.get("tags", ())),
            screens=frozenset(int(i) for i in targets.get("screens", ())),
        ),
        first_date=date.fromisoformat(entry.get("first_date") or camp["start_date"]),
        last_date=date.fromisoformat(entry.get("last_date") or camp["end_date"]),
        timezone=None if entry.get("screen_local") else camp["timezone"],
        weekdays=None if weekdays is None else frozenset(int(d) for d in weekdays),
        windows=tuple(
            DailyWindow(time.fromisoformat(s), time.fromisoformat(e))
            for s, e in entry.get("windows") or ()
        ),
        interval=interval,
        priority=int(entry.get("priority", 0)),
        layer=Layer.TAKEOVER if entry.get("layer") == "takeover" else Layer.NORMAL,
        published_at=live.published_at,
        live_from=live.live_from,
        live_until=live.live_until,
        campaign=camp["name"],
    )


def rules_as_of(rules: Sequence[Rule], now: datetime) -> tuple[Rule, ...]:
    """The rules as published at `now`, read as timeless: for previews and conflict checks.

    Versions no longer in force at `now` are dropped, and each campaign's earliest version
    still in force (or announced) counts as in force since ever, so that a schedule can be
    explained at any instant, past ones included, with today's content.
    """
    kept = [r for r in rules if r.live_until is None or r.live_until > now]
    earliest: dict[str, datetime] = {}
    for rule in kept:
        key = rule.id.split(".", 1)[0]
        if rule.live_from is not None and (key not in earliest or rule.live_from < earliest[key]):
            earliest[key] = rule.live_from
    return tuple(
        replace(r, live_from=None) if r.live_from == earliest.get(r.id.split(".", 1)[0]) else r
        for r in kept
    )


def screen_facts(session: Session, screen: Screen, content: PublishedContent) -> ScreenFacts:
    """The engine's view of `screen`: its organisation path, groups (with ancestors), tags,
    zone, and the default playlist of its nearest organisation that has one."""
    org_path = screen.organisation.ancestor_ids
    group_ids = set(
        session.scalars(select(Group.id).join(Group.screens).where(Screen.id == screen.id)).all()
    )
    frontier = set(group_ids)
    while frontier:
        parents = set(
            session.scalars(
                select(Group.parent_id).where(
                    Group.id.in_(sorted(frontier)), Group.parent_id.is_not(None)
                )
            ).all()
        )
        frontier = {p for p in parents if p is not None and p not in group_ids}
        group_ids |= frontier
    default = next((content.defaults[o] for o in reversed(org_path) if o in content.defaults), None)
    return ScreenFacts(
        id=screen.id,
        org_path=org_path,
        timezone=screen.timezone,
        groups=frozenset(group_ids),
        tags=frozenset(str(t) for t in screen.tags or ()),
        default_playlist=default,
    )


def screens_facts(
    session: Session, screens: Sequence[Screen], content: PublishedContent
) -> list[ScreenFacts]:
    """`screen_facts` for many screens in a few queries (group membership read in bulk)."""
    ids = [s.id for s in screens]
    member: dict[int, set[int]] = {i: set() for i in ids}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for screen_id, group_id in session.execute(
            select(GroupMember.screen_id, GroupMember.group_id).where(
                GroupMember.screen_id.in_(chunk)
            )
        ):
            member[screen_id].add(group_id)
    parent: dict[int, int | None] = {
        group_id: parent_id
        for group_id, parent_id in session.execute(
            select(Group.id, Group.parent_id).where(Group.parent_id.is_not(None))
        )
    }
    out = []
    for screen in screens:
        groups: set[int] = set()
        for group_id in member[screen.id]:
            current: int | None = group_id
            while current is not None and current not in groups:
                groups.add(current)
                current = parent.get(current)
        org_path = screen.organisation.ancestor_ids
        out.append(
            ScreenFacts(
                id=screen.id,
                org_path=org_path,
                timezone=screen.timezone,
                groups=frozenset(groups),
                tags=frozenset(str(t) for t in screen.tags or ()),
                default_playlist=next(
                    (content.defaults[o] for o in reversed(org_path) if o in content.defaults),
                    None,
                ),
            )
        )
    return out
