"""`signage report plays`: proof of play added up, through the same service as the REST view."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

import click

from server.accounts.organisations import by_name
from server.auth.actors import actor_by_email
from server.campaigns.preview import find_screen
from server.cli import AS, JSON, emit, friendly, now, reading, table
from server.errors import FieldError, ValidationFailed
from server.reports.plays import GROUPS, Report, plays_report


def _when(value: str | None, field: str) -> datetime | date | None:
    """A date (its local midnight) or an instant with its offset."""
    if value is None:
        return None
    try:
        if len(value.strip()) == 10:
            return date.fromisoformat(value.strip())
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"{value!r} is not a date or an instant",
            [FieldError(field, "e.g. 2022-09-05 or 2022-09-05T08:00+08:00")],
        ) from None
    if parsed.tzinfo is None:
        raise ValidationFailed(
            f"{value!r} has no UTC offset", [FieldError(field, "add one, e.g. +08:00")]
        )
    return parsed


def report_json(report: Report) -> dict[str, Any]:
    """The report as the REST view's JSON shows it (`PlayReportOut`)."""
    return {
        "since": report.since,
        "until": report.until,
        "timezone": report.timezone,
        "group_by": list(report.group_by),
        "rows": [asdict(r) for r in report.rows],
        "plays": report.plays,
        "seconds": report.seconds,
    }


@click.group()
def report() -> None:
    """Reports."""


@report.command("plays")
@click.option("--since", help="Start: a date (local midnight) or an instant; default 7 days ago.")
@click.option(
    "--until", help="End: a date (the last day included) or an instant (exclusive); default now."
)
@click.option("--timezone", help="Zone of days and dates; default the organisation's, else UTC.")
@click.option(
    "--group-by",
    default=",".join(GROUPS),
    show_default=True,
    help="Comma-separated: " + ", ".join(GROUPS) + ".",
)
@click.option("--org", "org_name", help="Only this organisation and the ones below it.")
@click.option("--screen", "screen_name", help="Only this screen (name or id).")
@click.option("--campaign", help="Only this campaign.")
@AS
@JSON
@click.pass_context
@friendly
def plays_cmd(
    ctx: click.Context,
    since: str | None,
    until: str | None,
    timezone: str | None,
    group_by: str,
    org_name: str | None,
    screen_name: str | None,
    campaign: str | None,
    as_email: str | None,
    as_json: bool,
) -> None:
    """Proof of play: plays and seconds by day, campaign, playlist, asset and screen."""
    at = now(ctx)
    with reading(ctx) as session:
        assert session is not None
        result = plays_report(
            session,
            actor_by_email(session, as_email),
            at,
            since=_when(since, "--since"),
            until=_when(until, "--until"),
            timezone=timezone,
            group_by=group_by,
            organisation_id=by_name(session, org_name).id if org_name else None,
            screen_id=find_screen(session, screen_name).id if screen_name else None,
            campaign=campaign,
        )
    columns = ("day", "campaign", "playlist", "asset_title", "screen_name", "plays", "seconds")
    lines = table(
        [c.upper().replace("_", " ") for c in columns],
        ([getattr(r, c) for c in columns] for r in result.rows),
    )
    lines.append(
        f"{result.plays} plays, {result.seconds:.0f} s from {result.since.isoformat()}"
        f" until {result.until.isoformat()} ({result.timezone})"
    )
    emit(as_json, report_json(result), lines)
