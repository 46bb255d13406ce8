"""Console pages: the fleet calendar (screens × days of an organisation or a group) and a
campaign's week (days × hours of what its entries play), both from the scheduling engine
through `server.campaigns.calendar`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.accounts.models import Organisation
from server.auth.actors import Actor
from server.auth.policy import READ
from server.auth.scope import in_scope
from server.campaigns import calendar as cal
from server.campaigns import services as crud
from server.campaigns.pages.refusals import Refused, explain, page_input
from server.db import get_session
from server.errors import KnownError, NotFound
from server.screens.groups import readable_groups
from server.web.frame import REFUSED, PageResult, actor, page, query_int, scope

bp = Blueprint("calendar_pages", __name__, template_folder="../templates")
DEFAULT_DAYS: Final = 7


def weekday_name(day: date) -> str:
    names = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))
    return names[day.weekday()]


def _first_day(default: date) -> date:
    raw = request.args.get("first", "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise page_input(_("The first day must be a date like 2026-01-05."), "first", raw) from None


def _days() -> int:
    raw = request.args.get("days", "").strip()
    if not raw:
        return DEFAULT_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= cal.MAX_DAYS:
        raise page_input(_("Show 1 to %(max)d days.", max=cal.MAX_DAYS), "days", raw)
    return int(raw)


def _orgs(db: Session, who: Actor) -> list[Organisation]:
    return list(db.scalars(select(Organisation).where(in_scope(who)).order_by(Organisation.path)))


def _chosen_org(db: Session, who: Actor, orgs: list[Organisation]) -> Organisation | None:
    wanted = query_int("organisation_id")
    if wanted is not None:
        org = next((o for o in orgs if o.id == wanted), None)
        if org is None:
            raise NotFound(_("No such organisation."))
        return org
    return scope(db, who) or (orgs[0] if orgs else None)


@bp.get("/calendar")
@page(READ)
def calendar() -> PageResult:
    """What plays on each screen of an organisation (or of a group) each day."""
    db, who = get_session(), actor()
    orgs, groups = _orgs(db, who), readable_groups(db, who)
    context: dict[str, Any] = {
        "orgs": orgs,
        "groups": groups,
        "rows": [],
        "dates": [],
        "refused": Refused(),
    }
    status = 200
    try:
        org = _chosen_org(db, who, orgs)
        group_id = query_int("group_id")
        group = cal.readable_group(db, who, group_id) if group_id is not None else None
        if group is not None:
            org = group.organisation
        tz = ZoneInfo(org.timezone if org else "UTC")
        first = _first_day(clock.now().astimezone(tz).date())
        days = _days()
        rows = cal.fleet_calendar(db, org, first, days, clock.now(), group) if org else []
        context.update(
            org=org,
            group=group,
            first=first,
            days=days,
            rows=rows,
            dates=[first + timedelta(days=n) for n in range(days)],
            earlier=first - timedelta(days=days),
            later=first + timedelta(days=days),
        )
    except REFUSED as exc:
        if isinstance(exc, NotFound):
            raise
        context.update(refused=explain(exc), org=None, group=None, first=None, days=DEFAULT_DAYS)
        status = exc.status
    context["weekday_name"] = weekday_name
    return render_template("calendars/fleet.html", **context), status


@bp.get("/campaigns/<int:campaign_id>/calendar")
@page(READ)
def campaign_week(campaign_id: int) -> PageResult:
    """A campaign's week, hour by hour, in the campaign's zone: theme days and windows."""
    db, who = get_session(), actor()
    campaign = crud.get_campaign(db, who, campaign_id)
    status, refused, days = 200, Refused(), []
    first = campaign.start_date
    try:
        first = _first_day(campaign.start_date)
        days = cal.campaign_week(campaign, first, DEFAULT_DAYS)
    except KnownError as exc:
        status, refused = exc.status, explain(exc)
    return (
        render_template(
            "calendars/campaign_week.html",
            campaign=campaign,
            week=days,
            first=first,
            earlier=first - timedelta(days=DEFAULT_DAYS),
            later=first + timedelta(days=DEFAULT_DAYS),
            refused=refused,
            weekday_name=weekday_name,
        ),
        status,
    )
