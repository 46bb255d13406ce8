"""Reports: proof of play added up by day, campaign, playlist, asset and screen (JSON or CSV)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any, Literal

from flask import Blueprint, Response, json
from pydantic import AwareDatetime, BaseModel, Field

from server import clock
from server.api.registry import api
from server.api.schemas import Strict
from server.auth.policy import READ, current_actor
from server.db import MAX_ID, get_session
from server.reports import plays
from server.reports.plays import GROUPS, Report

bp = Blueprint("reports", __name__, url_prefix="/reports")
CSV_COLUMNS = (
    "day",
    "campaign",
    "playlist",
    "asset_sha256",
    "asset_title",
    "screen_id",
    "screen_name",
    "plays",
    "seconds",
)


class PlayReportQuery(Strict):
    since: AwareDatetime | date | None = Field(
        default=None,
        description="Start (an instant, or a date: its local midnight); default 7 days ago",
    )
    until: AwareDatetime | date | None = Field(
        default=None,
        description="End: an instant (exclusive), or a date: the last day included; default now",
    )
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="Zone of days and dates; default the organisation's (the one reported on,"
        " else the caller's), else UTC",
    )
    group_by: str = Field(default=",".join(GROUPS), max_length=100, description=", ".join(GROUPS))
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    screen_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    campaign: str | None = Field(default=None, max_length=300)
    playlist: str | None = Field(default=None, max_length=200)
    group_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Screens in this group and the ones below it"
    )
    format: Literal["json", "csv"] = "json"


class PlayReportRow(BaseModel):
    day: date | None
    campaign: str | None
    playlist: str | None
    asset_sha256: str | None
    asset_title: str | None
    screen_id: int | None
    screen_name: str | None
    plays: int
    seconds: float


class PlayReportOut(BaseModel):
    since: datetime
    until: datetime
    timezone: str
    group_by: list[str]
    rows: list[PlayReportRow]
    plays: int
    seconds: float


def _safe_cell(value: Any) -> Any:
    # A cell starting like a formula would run in a spreadsheet: make it plain text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def report_csv(report: Report, filename: str = "plays.csv") -> Response:
    """The report as CSV, for the API and the console's download alike.

    A byte-order mark: Excel reads the file as UTF-8 only with one (Chinese names)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        values = [getattr(row, c) for c in CSV_COLUMNS]
        writer.writerow([_safe_cell(v.isoformat() if isinstance(v, date) else v) for v in values])
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@api.route(
    bp,
    "/plays",
    "GET",
    policy=READ,
    summary="Proof of play totals by day, campaign, playlist, asset and screen (JSON or CSV)",
    query=PlayReportQuery,
    response=PlayReportOut,
    raw_response="text/csv",
)
def plays_report(query: PlayReportQuery) -> Response:
    report = plays.plays_report(
        get_session(),
        current_actor(),
        clock.now(),
        since=query.since,
        until=query.until,
        timezone=query.timezone,
        group_by=query.group_by,
        organisation_id=query.organisation_id,
        screen_id=query.screen_id,
        campaign=query.campaign,
        playlist=query.playlist,
        group_id=query.group_id,
    )
    if query.format == "csv":
        return report_csv(report)
    out = PlayReportOut(
        since=report.since,
        until=report.until,
        timezone=report.timezone,
        group_by=list(report.group_by),
        rows=[PlayReportRow(**r.__dict__) for r in report.rows],
        plays=report.plays,
        seconds=report.seconds,
    )
    return Response(json.dumps(out.model_dump(mode="json")), mimetype="application/json")
