"""Console page for proof of play: totals grouped as chosen, filters, a chart of plays and
seconds on screen per day, and the same report as CSV.

The page and its CSV read the query the same way (`report_args`) and call the same service
as the REST view (`plays.plays_report`); the CSV is the REST view's own (`report_csv`), so
the three agree to the play and the second.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.accounts.models import Organisation
from server.accounts.organisations import org_or_404
from server.auth.actors import Actor
from server.auth.policy import READ
from server.auth.scope import in_scope, readable_org_clause
from server.db import MAX_ID, get_session
from server.errors import FieldError, KnownError, ValidationFailed
from server.reports import chart, plays
from server.reports.plays import GROUPS, MAX_REPORT_DAYS, Report
from server.reports.views import report_csv
from server.scheduling.localtime import check_zone, day_containing, zone
from server.screens.models import Group, Screen
from server.web.frame import REFUSED, PageResult, actor, page, query_day, refusal

bp = Blueprint("reports_pages", __name__, template_folder="templates")
DEFAULT_GROUPS: Final = ("day", "campaign")
DEFAULT_DAYS: Final = 7
ZONES: Final = ("UTC", "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Europe/London")
MAX_OPTIONS: Final = 500
MAX_SHOWN: Final = 1000  # rows on the page; the totals and the CSV have them all


@dataclass(frozen=True)
class ReportArgs:
    """The report's filters as the query gives them; None: not filtered (dates: defaults)."""

    group_by: tuple[str, ...] = DEFAULT_GROUPS
    organisation_id: int | None = None
    campaign: str | None = None
    playlist: str | None = None
    screen_id: int | None = None
    group_id: int | None = None
    since: date | None = None
    until: date | None = None
    timezone: str | None = None

    def query(self) -> str:
        """The query string that asks for exactly this report (the CSV link, the form)."""
        values: list[tuple[str, Any]] = [("group_by", g) for g in self.group_by]
        for key, value in asdict(self).items():
            if key != "group_by" and value not in (None, ""):
                values.append((key, value.isoformat() if isinstance(value, date) else value))
        return urlencode(values)


def _text(name: str, limit: int, errors: list[FieldError]) -> str | None:
    raw = request.args.get(name, "").strip()
    if len(raw) > limit:
        errors.append(FieldError(name, _("at most %(n)s characters", n=limit)))
        return None
    return raw or None


def _id(name: str, errors: list[FieldError]) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        errors.append(FieldError(name, _("not a valid choice")))
        return None
    return int(raw)


def _groups(errors: list[FieldError]) -> tuple[str, ...]:
    given = [v for raw in request.args.getlist("group_by") for v in raw.split(",") if v.strip()]
    if not given:
        return DEFAULT_GROUPS
    wanted = tuple(dict.fromkeys(g.strip() for g in given))
    if any(g not in GROUPS for g in wanted):
        reason = _("choose among day, campaign, playlist, asset, screen")
        errors.append(FieldError("group_by", reason))
        return DEFAULT_GROUPS
    return wanted


def report_args() -> ReportArgs:
    """The filters of this request; ValidationFailed names each field that is wrong."""
    errors: list[FieldError] = []
    args = ReportArgs(
        group_by=_groups(errors),
        organisation_id=_id("organisation_id", errors),
        campaign=_text("campaign", 300, errors),
        playlist=_text("playlist", 200, errors),
        screen_id=_id("screen_id", errors),
        group_id=_id("group_id", errors),
        since=query_day("since", errors),
        until=query_day("until", errors),
        timezone=_text("timezone", 64, errors),
    )
    if args.timezone is not None and check_zone(args.timezone) is not None:
        errors.append(FieldError("timezone", _("unknown time zone")))
    if args.since and args.until:
        if args.since > args.until:
            errors.append(FieldError("until", _("must not be before “From”")))
        elif (args.until - args.since).days >= MAX_REPORT_DAYS:
            errors.append(FieldError("until", _("at most %(n)s days", n=MAX_REPORT_DAYS)))
    if errors:
        raise ValidationFailed(_("Some filters are not right:"), errors)
    return args


def resolved(db: Session, who: Actor, args: ReportArgs, now: datetime) -> ReportArgs:
    """`args` with the zone (the organisation's by default) and the days filled in: the
    last DEFAULT_DAYS days up to today, or as many around the one day given."""
    tz_name = args.timezone
    if tz_name is None:
        org = org_or_404(db, who, args.organisation_id) if args.organisation_id else None
        tz_name = plays.default_zone(db, who, org)
    today = day_containing(now, zone(tz_name))
    until = args.until or (args.since + timedelta(days=DEFAULT_DAYS - 1) if args.since else today)
    since = args.since or until - timedelta(days=DEFAULT_DAYS - 1)
    if since > until:
        since = until
    return replace(args, timezone=tz_name, since=since, until=until)


def run(db: Session, who: Actor, args: ReportArgs, group_by: tuple[str, ...]) -> Report:
    """The report of resolved `args`, grouped by `group_by`, through the REST view's service."""
    return plays.plays_report(
        db,
        who,
        clock.now(),
        since=args.since,
        until=args.until,
        timezone=args.timezone,
        group_by=group_by,
        organisation_id=args.organisation_id,
        screen_id=args.screen_id,
        campaign=args.campaign,
        playlist=args.playlist,
        group_id=args.group_id,
    )


def _options(db: Session, who: Actor) -> dict[str, Any]:
    """What the filters offer: organisations, screens and groups the actor sees, and the
    campaign and playlist names of its plays."""
    orgs = db.scalars(select(Organisation).where(in_scope(who)).order_by(Organisation.path))
    screens = db.scalars(
        select(Screen)
        .join(Organisation, Organisation.id == Screen.organisation_id)
        .where(in_scope(who))
        .order_by(Screen.name, Screen.id)
        .limit(MAX_OPTIONS)
    )
    groups = db.scalars(
        select(Group)
        .join(Organisation, Organisation.id == Group.organisation_id)
        .where(readable_org_clause(who))
        .order_by(Group.name, Group.id)
        .limit(MAX_OPTIONS)
    )
    choices = plays.report_choices(db, who)
    return {
        "orgs": list(orgs),
        "screens": list(screens),
        "groups": list(groups),
        "campaigns": choices.campaigns,
        "playlists": choices.playlists,
        "zones": ZONES,
        "all_groups": GROUPS,
        "dim_names": dimension_labels(),
        "max_shown": MAX_SHOWN,
        "seconds": seconds,
    }


def field_labels() -> dict[str, str]:
    """The filters' names as the page shows them (a refusal names the field it is about)."""
    return {
        "group_by": _("Group by"),
        "organisation_id": _("Organisation"),
        "campaign": _("Campaign"),
        "playlist": _("Playlist"),
        "screen_id": _("Screen"),
        "group_id": _("Group"),
        "since": _("From"),
        "until": _("Until (included)"),
        "timezone": _("Time zone"),
    }


def refused_lines(exc: KnownError) -> list[str]:
    """`refusal(exc)` with each field named as its label on the page."""
    labels = field_labels()
    lines = refusal(exc)[:1]
    lines += [f"{labels.get(e.field, e.field)}: {e.reason}" for e in exc.errors]
    return lines


def dimension_labels() -> dict[str, str]:
    return {
        "day": _("Day"),
        "campaign": _("Campaign"),
        "playlist": _("Playlist"),
        "asset": _("Asset"),
        "screen": _("Screen"),
    }


def seconds(value: float) -> str:
    """Seconds as the CSV writes them, without a float's noise: 12.5, 30."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _form(args: ReportArgs | None) -> dict[str, Any]:
    """The values the filter form shows: the report's, else what was typed."""
    if args is not None:
        values: dict[str, Any] = {k: "" if v is None else str(v) for k, v in asdict(args).items()}
        values["group_by"] = list(args.group_by)
        return values
    typed: dict[str, Any] = {k: request.args.get(k, "").strip()[:300] for k in field_labels()}
    given = [v for raw in request.args.getlist("group_by") for v in raw.split(",")]
    typed["group_by"] = [v for v in given if v in GROUPS] or list(DEFAULT_GROUPS)
    return typed


def _chart(db: Session, who: Actor, args: ReportArgs, report: Report) -> dict[str, Any]:
    by_day = report if report.group_by == ("day",) else run(db, who, args, ("day",))
    assert args.since is not None and args.until is not None
    plays_series, seconds_series = chart.day_charts(by_day, args.since, args.until)
    return {
        "series": (plays_series, seconds_series),
        "width": chart.WIDTH,
        "height": chart.HEIGHT,
    }


@bp.get("/reports")
@page(READ)
def reports() -> PageResult:
    db, who = get_session(), actor()
    context: dict[str, Any] = {"report": None, "refused": [], "csv_url": None, "form": None}
    status = 200
    try:
        args = resolved(db, who, report_args(), clock.now())
        report = run(db, who, args, args.group_by)
        context.update(
            report=report,
            form=_form(args),
            csv_url=url_for("reports_pages.reports_csv") + "?" + args.query(),
            **_chart(db, who, args, report),
        )
    except REFUSED as exc:
        db.rollback()
        context.update(refused=refused_lines(exc), form=_form(None))
        status = _status(exc)
    return render_template("reports/plays.html", **context, **_options(db, who)), status


def _status(exc: KnownError) -> int:
    return exc.status if 400 <= exc.status < 500 else 422


@bp.get("/reports/plays.csv")
@page(READ)
def reports_csv() -> PageResult:
    """The page's report as CSV: the same filters, the REST view's CSV writer."""
    db, who = get_session(), actor()
    try:
        args = resolved(db, who, report_args(), clock.now())
        report = run(db, who, args, args.group_by)
    except REFUSED as exc:
        db.rollback()
        return render_template(
            "reports/plays.html",
            report=None,
            csv_url=None,
            form=_form(None),
            refused=refused_lines(exc),
            **_options(db, who),
        ), _status(exc)
    response: Response = report_csv(report, f"plays-{args.since}-{args.until}.csv")
    return response
