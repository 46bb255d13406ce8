"""Console pages for the fleet: the dashboard, a screen, pairing, enrolment tokens, groups.

They call the same services as the REST views (`services`, `actions`, `groups`,
`dashboard`), so the permissions are the same; a viewer gets pages without write controls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from server import clock
from server.accounts.models import Organisation, Role
from server.auth.actors import ROLE_RANK, Actor
from server.auth.policy import ADMIN, READ, WRITE, client_address
from server.auth.scope import in_scope
from server.campaigns.preview import PreviewSegment, screen_timeline
from server.db import get_session
from server.errors import FieldError, ValidationFailed
from server.screens import actions, dashboard, groups, joining, services
from server.screens.groups import readable_groups
from server.screens.models import Command, Group, Screen, Screenshot
from server.web.frame import (
    REFUSED,
    PageResult,
    actor,
    form_int,
    form_ints,
    is_htmx,
    page,
    query_int,
    refusal,
    scope,
    settings,
    tags_from,
)

bp = Blueprint("screens_pages", __name__, template_folder="templates")
PAGE_SIZE: Final = 50
POLL_S: Final = 5
ZONES: Final = ("UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Europe/London")


def _may(who: Actor, org: Organisation, role: Role) -> bool:
    have = who.role_in(org.path)
    return have is not None and ROLE_RANK[have] >= ROLE_RANK[role]


def _orgs(db: Session, who: Actor, role: Role = Role.VIEWER) -> list[Organisation]:
    rows = db.scalars(select(Organisation).where(in_scope(who)).order_by(Organisation.path))
    return [o for o in rows if _may(who, o, role)]


# -- the fleet dashboard -------------------------------------------------------------------


def _fleet_args() -> dict[str, Any]:
    state = request.args.get("state", "")
    sort = request.args.get("sort", "name")
    return {
        "state": state if state in dashboard.STATES else "",
        "organisation_id": query_int("organisation_id"),
        "group_id": query_int("group_id"),
        "q": request.args.get("q", "").strip()[:200],
        "sort": sort if sort.removeprefix("-") in dashboard.SORTS else "name",
        "offset": min(int(o), 10_000_000)
        if (o := request.args.get("offset", "0")).isdigit()
        else 0,
    }


def _fleet_context(db: Session, who: Actor) -> dict[str, Any]:
    args = _fleet_args()
    chosen = scope(db, who)
    now, config = clock.now(), settings()
    filters = dashboard.DashboardFilter(
        scope_path=chosen.path if chosen else None,
        state=args["state"] or None,
        organisation_id=args["organisation_id"],
        group_id=args["group_id"],
        text=args["q"] or None,
    )
    counts = dashboard.fleet_counts(db, who, filters, now, config)
    rows, total = dashboard.fleet_page(
        db,
        who,
        filters,
        sort=args["sort"],
        limit=PAGE_SIZE,
        offset=args["offset"],
        now=now,
        settings=config,
    )

    def url(**changes: Any) -> str:
        merged = {**args, **changes}
        query = {k: v for k, v in merged.items() if v not in (None, "", 0) or k == "sort"}
        return "?" + urlencode(query)

    return {
        "args": args,
        "counts": counts,
        "rows": rows,
        "total": total,
        "limit": PAGE_SIZE,
        "now": now,
        "url": url,
        "sort_url": lambda key: url(sort=key, offset=0),
        "page_url": lambda offset: url(offset=offset),
        "scope_org": chosen,
        "poll_s": POLL_S,
    }


@bp.get("/fleet")
@page(READ)
def fleet() -> PageResult:
    db, who = get_session(), actor()
    context = _fleet_context(db, who)
    if is_htmx():
        return render_template("screens/_fleet_body.html", **context)
    return render_template(
        "screens/fleet.html", orgs=_orgs(db, who), groups=readable_groups(db, who), **context
    )


# -- one screen ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One day of a screen's timeline, as segments placed in percent of the day."""

    label: str
    start: datetime
    end: datetime
    segments: list[tuple[float, float, PreviewSegment, str]]  # left %, width %, segment, colour


def _bars(db: Session, screen: Screen, now: datetime) -> tuple[list[Bar], list[str]]:
    zone = ZoneInfo(screen.timezone)
    today = now.astimezone(zone).date()
    start = datetime(today.year, today.month, today.day, tzinfo=zone)
    end = start + timedelta(days=2)
    try:
        timeline = screen_timeline(db, screen, start, end, now)
    except REFUSED as exc:
        return [], refusal(exc)
    colours: dict[str, str] = {}
    bars = []
    for day, label in ((start, _("Today")), (start + timedelta(days=1), _("Tomorrow"))):
        day_end = (day + timedelta(days=1)).astimezone(zone)
        day_end = datetime(day_end.year, day_end.month, day_end.day, tzinfo=zone)
        span = (day_end - day).total_seconds()
        placed = []
        for seg in timeline.segments:
            s, e = max(seg.start, day), min(seg.end, day_end)
            if e <= s:
                continue
            key = seg.playlist or ""
            colour = "idle" if not key else colours.setdefault(key, f"c{len(colours) % 7}")
            left = (s - day).total_seconds() / span * 100
            width = (e - s).total_seconds() / span * 100
            placed.append((round(left, 3), round(width, 3), seg, colour))
        bars.append(Bar(label, day, day_end, placed))
    return bars, []


def clock_span(segment: PreviewSegment, bar: Bar) -> str:
    """ "06:00–18:30" of a segment within its day, in the screen's zone (the day ends 24:00)."""
    zone = bar.start.tzinfo
    start = max(segment.start, bar.start).astimezone(zone).strftime("%H:%M")
    end = "24:00" if segment.end >= bar.end else segment.end.astimezone(zone).strftime("%H:%M")
    return f"{start}–{end}"


def _screen_context(db: Session, who: Actor, screen_id: int) -> dict[str, Any]:
    screen = services.get_screen(db, who, screen_id)
    now = clock.now()
    shot = db.get(Screenshot, screen.id)
    bars, timeline_refused = _bars(db, screen, now)
    status = screen.status if isinstance(screen.status, dict) else {}
    shown = dashboard._showing(db, who, [status])  # noqa: SLF001 - the same lookup as the table
    return {
        "screen": screen,
        "status": status,
        "showing": dashboard.showing_of(status, shown),
        "online": services.is_online(screen.last_seen_at, now, settings()),
        "shot": shot,
        "commands": actions.recent_commands(db, who, screen.id, limit=10),
        "bars": bars,
        "timeline_refused": timeline_refused,
        "may_edit": _may(who, screen.organisation, Role.OPERATOR),
        "clock_span": clock_span,
        "now": now,
    }


@bp.route("/screens/<int:screen_id>", methods=["GET", "POST"])
@page(READ)
def screen(screen_id: int) -> PageResult:
    db, who = get_session(), actor()
    refused: list[str] = []
    notice = ""
    if request.method == "POST":
        now = clock.now()
        what = request.form.get("action", "")
        try:
            if what == "edit":
                services.update_screen(
                    db,
                    who,
                    now,
                    screen_id,
                    {
                        "name": request.form.get("name", "").strip()[:200],
                        "timezone": request.form.get("timezone", "").strip()[:64],
                        "tags": tags_from(request.form.get("tags", "")),
                        "group_ids": form_ints("group_ids"),
                    },
                )
                notice = _("Saved.")
            elif what == "command":
                kind = request.form.get("kind", "")
                actions.queue_command(db, who, now, screen_id, kind)
                notice = _("Command sent; the screen picks it up at its next poll.")
            elif what == "revoke":
                joining.revoke_device(db, who, now, screen_id)
                notice = _("Device revoked: the player shows its pairing code again.")
            else:
                refused = [_("Unknown action.")]
            db.commit()
        except REFUSED as exc:
            db.rollback()
            refused = refusal(exc)
        if is_htmx() and what == "command" and not refused:
            return render_template("screens/_live.html", **_screen_context(db, who, screen_id))
    context = _screen_context(db, who, screen_id)
    return render_template(
        "screens/screen.html",
        groups=readable_groups(db, who),
        zones=ZONES,
        refused=refused,
        notice=notice,
        **context,
    ), (422 if refused else 200)


@bp.get("/screens/<int:screen_id>/live")
@page(READ)
def screen_live(screen_id: int) -> PageResult:
    """The screenshot and the commands, refreshed by the screen page while it is open."""
    return render_template(
        "screens/_live.html", **_screen_context(get_session(), actor(), screen_id)
    )


# -- pairing and enrolment -----------------------------------------------------------------


@bp.route("/screens/pair", methods=["GET", "POST"])
@page(WRITE)
def pair() -> PageResult:
    db, who = get_session(), actor()
    refused: list[str] = []
    form: dict[str, Any] = {}
    if request.method == "POST":
        form = dict(request.form)
        onto = form_int("screen_id")
        try:
            paired = actions.claim_with_limits(
                db,
                who,
                clock.now(),
                code=request.form.get("code", "")[:20],
                # A pre-registered screen keeps its organisation: the device takes its place.
                organisation_id=None if onto else form_int("organisation_id") or 0,
                name=request.form.get("name", "").strip()[:200] or None,
                group_ids=form_ints("group_ids"),
                timezone=request.form.get("timezone", "").strip()[:64] or None,
                replace_screen_id=onto,
                settings=settings(),
                address=client_address(),
            )
            db.commit()
            return redirect(url_for("screens_pages.screen", screen_id=paired.id, paired=1))
        except REFUSED as exc:
            db.rollback()
            refused = refusal(exc)
    waiting = db.scalars(
        select(Screen)
        .join(Organisation, Organisation.id == Screen.organisation_id)
        .where(in_scope(who), Screen.device_token_hash.is_(None))
        .order_by(Screen.name)
        .limit(500)
    ).all()
    return render_template(
        "screens/pair.html",
        orgs=_orgs(db, who, Role.OPERATOR),
        groups=readable_groups(db, who),
        unpaired=[s for s in waiting if _may(who, s.organisation, Role.OPERATOR)],
        zones=ZONES,
        form=form,
        refused=refused,
    ), (422 if refused else 200)


@bp.route("/enrolment-tokens", methods=["GET", "POST"])
@page(ADMIN)
def enrolment_tokens() -> PageResult:
    db, who = get_session(), actor()
    orgs = _orgs(db, who, Role.ADMIN)
    org_id = (
        query_int("organisation_id")
        or form_int("organisation_id")
        or (orgs[0].id if orgs else None)
    )
    refused: list[str] = []
    created: str | None = None
    notice = ""
    now = clock.now()
    if request.method == "POST":
        try:
            action = request.form.get("action")
            if action == "revoke":
                joining.revoke_enrolment_token(db, who, now, form_int("token_id") or 0)
                notice = _("Token revoked.")
            elif action != "create":
                raise ValidationFailed("say what to do", [FieldError("action", "create or revoke")])
            else:
                days = form_int("days") or 7
                _row, created = joining.create_enrolment_token(
                    db,
                    who,
                    now,
                    organisation_id=org_id or 0,
                    expires_at=now + timedelta(days=min(days, 3650)),
                    max_uses=min(form_int("max_uses") or 1, 1_000_000),
                    group_ids=form_ints("group_ids"),
                    timezone=request.form.get("timezone", "").strip()[:64] or None,
                    name=request.form.get("name", "").strip()[:200],
                )
            db.commit()
        except REFUSED as exc:
            db.rollback()
            refused = refusal(exc)
    rows = joining.enrolment_tokens(db, who, org_id) if org_id else []
    return render_template(
        "screens/enrolment_tokens.html",
        orgs=orgs,
        org_id=org_id,
        tokens=rows,
        groups=readable_groups(db, who),
        zones=ZONES,
        created=created,
        refused=refused,
        notice=notice,
        now=now,
    ), (422 if refused else 200)


# -- groups ----------------------------------------------------------------------------------


@bp.route("/groups", methods=["GET", "POST"], endpoint="groups")
@page(READ)
def groups_page() -> PageResult:
    db, who = get_session(), actor()
    refused: list[str] = []
    notice = ""
    if request.method == "POST":
        now = clock.now()
        what = request.form.get("action", "")
        try:
            if what == "create":
                groups.create_group(
                    db,
                    who,
                    now,
                    organisation_id=form_int("organisation_id") or 0,
                    name=request.form.get("name", "").strip()[:200],
                    parent_id=form_int("parent_id"),
                )
                notice = _("Group created.")
            elif what == "update":
                groups.update_group(
                    db,
                    who,
                    now,
                    form_int("group_id") or 0,
                    {
                        "name": request.form.get("name", "").strip()[:200],
                        "parent_id": form_int("parent_id"),
                    },
                )
                notice = _("Saved.")
            elif what == "delete":
                groups.delete_group(db, who, now, form_int("group_id") or 0)
                notice = _("Group deleted.")
            db.commit()
        except REFUSED as exc:
            db.rollback()
            refused = refusal(exc)
    all_groups = readable_groups(db, who)
    children: dict[int | None, list[Group]] = {}
    for g in all_groups:
        children.setdefault(g.parent_id, []).append(g)
    known = {g.id for g in all_groups}
    roots = [g for g in all_groups if g.parent_id is None or g.parent_id not in known]
    return render_template(
        "screens/groups.html",
        roots=roots,
        children=children,
        all_groups=all_groups,
        orgs=_orgs(db, who, Role.OPERATOR),
        may=lambda g: _may(who, g.organisation, Role.OPERATOR),
        refused=refused,
        notice=notice,
    ), (422 if refused else 200)


def command_state(command: Command) -> str:
    if command.acked_at is None:
        return "pending"
    return "done" if command.ok else "failed"


bp.add_app_template_global(command_state, "command_state")


@bp.get("/screens")
@page(READ)
def screens_index() -> BaseResponse:
    return redirect(url_for("screens_pages.fleet"))
