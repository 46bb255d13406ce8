"""Console page: what plays where, and why.

A screen (or each screen of a group) at an instant and over a span, from the same preview
service as `signage preview` and the timeline API: the segments, the item on screen, the
winning rule and the step of the resolution order that made it win, the rules it beat, and
the poster as that screen receives it (its profile's variant when one has been made).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.assets.renders import SLOGAN_FIT, find_variant
from server.assets.variants import extension_for
from server.auth.actors import Actor
from server.auth.policy import READ
from server.auth.scope import in_scope
from server.campaigns.calendar import group_screens, readable_group
from server.campaigns.pages.refusals import Refused, explain, page_input
from server.campaigns.preview import (
    AtInstant,
    PreviewItem,
    PreviewSegment,
    RuleInfo,
    Timeline,
    screen_at,
    screen_timeline,
)
from server.db import get_session
from server.errors import NotFound
from server.media.profiles import parse_profiles, profile_for
from server.screens.groups import readable_groups
from server.screens.models import Group, Screen
from server.web.frame import REFUSED, PageResult, actor, page, query_int, settings

bp = Blueprint("preview_pages", __name__, template_folder="../templates")
GROUP_SCREENS: Final = 50


def specificity_words(spec: str) -> str:
    return {
        "screen": _("a screen target"),
        "group": _("a group target"),
        "tag": _("a tag target"),
        "organisation": _("an organisation target"),
        "all": _("all screens"),
    }.get(spec, spec)


def step_words(step: str | None) -> str:
    """The step of the resolution order, named as the operator knows it."""
    return {
        "takeover": _("takeover"),
        "priority": _("priority"),
        "specificity": _("specificity"),
        "most recent publish": _("most recent publish"),
        "rule id": _("rule id (a conflict)"),
        "only rule": _("the only rule"),
    }.get(step or "", step or "")


def layer_words(layer: str) -> str:
    return {"normal": _("normal"), "takeover": _("takeover")}.get(layer, layer)


def why_words(won: RuleInfo, why: str | None, beaten: RuleInfo | None) -> str:
    """Why `won` won, in the viewer's language (the CLI's `why_text`, translated)."""
    if why == "only rule" or beaten is None:
        return _(
            "It is the only rule for this screen (it names it by %(how)s).",
            how=specificity_words(won.specificity),
        )
    if why == "takeover":
        return _("Takeover: a takeover rule beats every rule on the normal layer.")
    if why == "priority":
        return _(
            "Priority: %(won)s beats %(lost)s.", won=str(won.priority), lost=str(beaten.priority)
        )
    if why == "specificity":
        return _(
            "Specificity: %(won)s beats %(lost)s.",
            won=specificity_words(won.specificity),
            lost=specificity_words(beaten.specificity),
        )
    if why == "most recent publish":
        return _(
            "Most recent publish: equal on layer, priority and target; it was published later."
        )
    return _("A tie on everything else (a conflict): the lower rule id wins.")


def _instant(name: str, tz: ZoneInfo, default: datetime) -> datetime:
    """A `datetime-local` field read in the screen's zone (an offset, if given, is kept)."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise page_input(
            _("%(value)s is not a date and time (e.g. 2026-01-05T10:00).", value=raw[:40]),
            name,
            raw,
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


@dataclass(frozen=True)
class Poster:
    url: str
    exact: bool  # the screen's own variant (else the library thumbnail stands in)
    profile: str


def poster(db: Session, screen: Screen, item: PreviewItem | None) -> Poster | None:
    """The item as `screen` receives it: its profile's variant when one has been made (this
    page never renders one: a GET changes nothing), else the media library's thumbnail."""
    if item is None or item.kind == "video":
        return None
    profile = profile_for(screen.width, screen.height, parse_profiles(settings().screen_profiles))
    fit = SLOGAN_FIT if item.kind == "slogan" else item.fit
    row = find_variant(db, item.sha256, str(profile), fit)
    if row is not None:
        return Poster(f"/media/{row.sha256}.{extension_for(row.media_type)}", True, str(profile))
    return Poster(f"/api/v1/assets/{item.asset_id}/thumbnail?v={item.sha256[:16]}", False, "")


def _screens(db: Session, who: Actor) -> list[Screen]:
    stmt = select(Screen).join(Screen.organisation).where(in_scope(who))
    return list(db.scalars(stmt.order_by(Screen.name, Screen.id).limit(1000)))


@dataclass(frozen=True)
class Bar:
    """The span's segments placed in percent of the span, for the SVG bar."""

    segments: list[tuple[float, float, PreviewSegment, str]]


def bar(timeline: Timeline) -> Bar:
    span = (timeline.end - timeline.start).total_seconds()
    colours: dict[str, str] = {}
    placed = []
    for seg in timeline.segments:
        s, e = max(seg.start, timeline.start), min(seg.end, timeline.end)
        key = seg.playlist or ""
        colour = "idle" if not key else colours.setdefault(key, f"c{len(colours) % 7}")
        left = (s - timeline.start).total_seconds() / span * 100
        width = (e - s).total_seconds() / span * 100
        placed.append((round(left, 3), round(width, 3), seg, colour))
    return Bar(placed)


def _screen_part(db: Session, screen: Screen, now: datetime) -> dict[str, Any]:
    tz = ZoneInfo(screen.timezone)
    at = _instant("at", tz, now)
    local = at.astimezone(tz)
    day = datetime(local.year, local.month, local.day, tzinfo=tz)
    start = _instant("from", tz, day)
    end = _instant("to", tz, start + timedelta(days=1))
    result: AtInstant = screen_at(db, screen, at, now)
    timeline = screen_timeline(db, screen, start, end, now)
    return {
        "at": at,
        "start": start,
        "end": end,
        "result": result,
        "timeline": timeline,
        "bar": bar(timeline),
        "poster": poster(db, screen, result.item),
    }


def _group_part(db: Session, who: Actor, group: Group, now: datetime) -> list[AtInstant]:
    screens = group_screens(db, who, group, GROUP_SCREENS)
    out = []
    for screen in screens:
        at = _instant("at", ZoneInfo(screen.timezone), now)
        out.append(screen_at(db, screen, at, now))
    return out


def local(value: datetime | None, zone: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return value.astimezone(ZoneInfo(zone)).strftime(fmt) if value else ""


@bp.route("/preview")
@page(READ)
def preview() -> PageResult:
    """Pick a screen or a group, an instant and a span; see what plays and why."""
    db, who = get_session(), actor()
    now = clock.now()
    context: dict[str, Any] = {
        "screens": _screens(db, who),
        "groups": readable_groups(db, who),
        "screen": None,
        "group": None,
        "group_rows": [],
        "refused": Refused(),
        "local": local,
        "why_words": why_words,
        "step_words": step_words,
        "layer_words": layer_words,
        "specificity_words": specificity_words,
        "now": now,
    }
    status = 200
    screen_id, group_id = query_int("screen_id"), query_int("group_id")
    try:
        if screen_id is not None:
            screen = db.get(Screen, screen_id)
            if screen is None or not who.sees(screen.organisation.path):
                raise NotFound(_("No such screen."))
            context["screen"] = screen
            context.update(_screen_part(db, screen, now))
        elif group_id is not None:
            group = readable_group(db, who, group_id)
            context["group"] = group
            context["group_rows"] = _group_part(db, who, group, now)
    except REFUSED as exc:
        if isinstance(exc, NotFound):
            raise
        context["refused"], status = explain(exc), exc.status
    return render_template("preview/preview.html", **context), status
