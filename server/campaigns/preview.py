"""What a screen plays, and why: the timeline with the winning rule and the rules it beat.

Previews answer from the content published *now* (including a publication announced for
a moment later): an instant in the past is answered with today's content, not with what
was on screens back then. So each campaign's earliest version still in force counts as
having always been in force; anything already superseded or archived is left out.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.assets.models import Asset
from server.campaigns.describe import describe_entry, entry_from_snapshot
from server.campaigns.publications import (
    PlaylistContent,
    PublishedContent,
    live_snapshots,
    load_published,
    parse_rule_id,
    rules_as_of,
    screen_facts,
)
from server.db import MAX_ID
from server.errors import FieldError, NotFound, ValidationFailed
from server.scheduling import (
    InvalidSchedule,
    Ranked,
    Rotation,
    Rule,
    Schedule,
    Segment,
    Specificity,
    why_first,
)
from server.screens.models import Screen

MAX_SPAN = timedelta(days=31)


@dataclass(frozen=True)
class RuleInfo:
    id: str
    campaign: str | None
    campaign_id: int | None
    entry: int | None  # index into the campaign's schedule
    playlist: str
    description: str
    priority: int
    layer: str
    specificity: str  # how it names this screen: screen, group, tag, organisation, all
    # On a beaten rule: the step of the resolution order at which the winner beat it.
    lost_on: str | None = None


@dataclass(frozen=True)
class PreviewItem:
    index: int
    asset_id: int
    sha256: str
    kind: str
    title: str
    duration_ms: int
    fit: str
    transition: str


@dataclass(frozen=True)
class PreviewSegment:
    start: datetime
    end: datetime
    anchor: datetime
    playlist: str | None  # its name; None: nothing scheduled (the idle card)
    playlist_key: str | None
    campaign: str | None
    default: bool  # the organisation's default playlist, no rule matched
    rule: RuleInfo | None
    beaten: tuple[RuleInfo, ...]
    conflict: bool
    items: tuple[PreviewItem, ...]
    # Why the winner won, by name: takeover, priority, specificity, most recent publish,
    # rule id (a tie: a conflict), or "only rule" when nothing else matched; None without a rule.
    why: str | None = None


@dataclass(frozen=True)
class ScreenInfo:
    id: int
    name: str
    organisation: str
    timezone: str


@dataclass(frozen=True)
class Timeline:
    screen: ScreenInfo
    start: datetime
    end: datetime
    content_version: int
    segments: tuple[PreviewSegment, ...]


@dataclass(frozen=True)
class AtInstant:
    screen: ScreenInfo
    at: datetime
    content_version: int
    segment: PreviewSegment
    item: PreviewItem | None  # on screen at `at`
    item_until: datetime | None
    next_change: datetime


class _Context:
    """Published content as previews see it, and everything needed to explain it."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        content = load_published(session, now)
        self.rules = rules_as_of(content.rules, now)
        self.content: PublishedContent = content
        self.schedule = Schedule(self.rules)
        self.by_id = {r.id: r for r in self.rules}
        self.snapshots = {s.publication_id: s.snapshot for s in live_snapshots(session, now)}
        self._titles: dict[int, str] = {}

    def facts(self, screen: Screen) -> Any:
        return screen_facts(self.session, screen, self.content)

    def rule_info(self, rule_id: str, spec: Specificity, lost_on: str | None = None) -> RuleInfo:
        rule: Rule = self.by_id[rule_id]
        parsed = parse_rule_id(rule_id)
        playlist = self.content.playlists.get(rule.playlist)
        description = ""
        entry = None
        campaign_id = None
        if parsed is not None:
            campaign_id, pub_id, entry = parsed
            snap = self.snapshots.get(pub_id)
            if snap is not None and entry < len(snap["entries"]):
                state = entry_from_snapshot(snap["entries"][entry], snap["playlists"])
                description = describe_entry(state, snap["campaign"]["timezone"], None)
        return RuleInfo(
            id=rule.id,
            campaign=rule.campaign,
            campaign_id=campaign_id,
            entry=entry,
            playlist=playlist.name if playlist else rule.playlist,
            description=description,
            priority=rule.priority,
            layer="takeover" if rule.layer else "normal",
            specificity=spec.name.lower(),
            lost_on=lost_on,
        )

    def items(self, playlist: PlaylistContent | None) -> tuple[PreviewItem, ...]:
        if playlist is None:
            return ()
        missing = [i.asset_id for i in playlist.items if i.asset_id not in self._titles]
        if missing:
            for asset_id, title, name in self.session.execute(
                select(Asset.id, Asset.title, Asset.original_name).where(Asset.id.in_(missing))
            ):
                self._titles[asset_id] = title or name
        return tuple(
            PreviewItem(
                index=n,
                asset_id=i.asset_id,
                sha256=i.sha256,
                kind=i.kind,
                title=self._titles.get(i.asset_id, ""),
                duration_ms=i.duration_ms,
                fit=i.fit,
                transition=i.transition,
            )
            for n, i in enumerate(playlist.items)
        )

    def segment(self, seg: Segment, ranked: Ranked) -> PreviewSegment:
        playlist = self.content.playlists.get(seg.playlist) if seg.playlist else None
        specs = dict(zip(ranked.ids, ranked.specificities, strict=True))
        rule = beaten = None
        why: str | None = None
        if seg.rule is not None:
            won, won_spec = self.by_id[seg.rule], specs[seg.rule]
            rule = self.rule_info(seg.rule, won_spec)
            beaten = tuple(
                self.rule_info(r, specs[r], why_first(won, won_spec, self.by_id[r], specs[r]))
                for r in seg.beaten
            )
            why = beaten[0].lost_on if beaten else "only rule"
        return PreviewSegment(
            start=seg.start,
            end=seg.end,
            anchor=seg.anchor,
            playlist=playlist.name if playlist else None,
            playlist_key=seg.playlist if playlist else None,
            campaign=playlist.campaign if playlist else None,
            default=seg.rule is None and playlist is not None,
            rule=rule,
            beaten=beaten or (),
            conflict=seg.conflict,
            items=self.items(playlist),
            why=why,
        )


def _screen_info(screen: Screen) -> ScreenInfo:
    return ScreenInfo(screen.id, screen.name, screen.organisation.name, screen.timezone)


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(
            f"{field} needs a UTC offset", [FieldError(field, "add a zone, e.g. +08:00 or Z")]
        )
    return value


def screen_timeline(
    session: Session, screen: Screen, start: datetime, end: datetime, now: datetime
) -> Timeline:
    """What `screen` plays over [start, end) (at most MAX_SPAN), and why."""
    start, end = _aware(start, "from"), _aware(end, "to")
    if end <= start:
        raise ValidationFailed("`to` must be after `from`", [FieldError("to", "not after from")])
    if end - start > MAX_SPAN:
        raise ValidationFailed(
            f"a timeline spans at most {MAX_SPAN.days} days",
            [FieldError("to", f"at most {MAX_SPAN.days} days after from")],
        )
    ctx = _Context(session, now)
    facts = ctx.facts(screen)
    try:
        segments = ctx.schedule.timeline(facts, start, end)
    except InvalidSchedule as exc:
        raise ValidationFailed(str(exc), [FieldError(exc.field, exc.reason)]) from None
    ranked = ctx.schedule.ranked(facts)
    return Timeline(
        screen=_screen_info(screen),
        start=start,
        end=end,
        content_version=ctx.content.version,
        segments=tuple(ctx.segment(s, ranked) for s in segments),
    )


def screen_at(session: Session, screen: Screen, at: datetime, now: datetime) -> AtInstant:
    """What `screen` plays at `at`: the segment, the item on screen, and when it changes."""
    at = _aware(at, "at")
    ctx = _Context(session, now)
    facts = ctx.facts(screen)
    try:
        resolution = ctx.schedule.resolve(facts, at)
    except InvalidSchedule as exc:
        raise ValidationFailed(str(exc), [FieldError(exc.field, exc.reason)]) from None
    segment = ctx.segment(resolution.segment, ctx.schedule.ranked(facts))
    item = until = None
    if segment.items:
        index, until = Rotation([i.duration_ms for i in segment.items]).item_at(segment.anchor, at)
        item = segment.items[index]
        until = min(until, resolution.next_change)
    return AtInstant(
        screen=_screen_info(screen),
        at=at,
        content_version=ctx.content.version,
        segment=segment,
        item=item,
        item_until=until,
        next_change=resolution.next_change,
    )


def find_screen(session: Session, name: str, org_name: str | None = None) -> Screen:
    """A screen by id (digits) or by name, regardless of case (unique, or within `org_name`);
    NotFound suggests a close name when there is one."""
    if name.isdigit():
        screen = session.get(Screen, int(name)) if 0 < int(name) <= MAX_ID else None
        if screen is not None:
            return screen
    stmt = select(Screen.id, Screen.name).join(Screen.organisation)
    if org_name:
        stmt = stmt.where(Organisation.name == org_name)
    names = session.execute(stmt).all()
    ids = [i for i, n in names if n == name] or [
        i for i, n in names if n.casefold() == name.casefold()
    ]
    if not ids:
        folded = {n.casefold(): n for _, n in names}
        close = difflib.get_close_matches(name.casefold(), list(folded), n=1)
        hint = f"; did you mean {folded[close[0]]!r}?" if close else ""
        where = f" in {org_name!r}" if org_name else ""
        raise NotFound(f"no screen {name!r}{where}{hint}")
    if len(ids) > 1:
        raise NotFound(f"several screens are called {name!r}: give --org or the screen id")
    screen = session.get(Screen, ids[0])
    assert screen is not None
    return screen


def to_json(value: Any) -> Any:
    """A preview result as JSON-ready data (instants in ISO 8601 with their offset)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value
