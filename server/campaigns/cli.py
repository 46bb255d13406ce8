"""`signage campaign …` (check, plan, apply, export) and `signage preview`.

`check`, `plan`, `export` (to stdout) and `preview` only read: they create no instance
folder, no database and no media, and roll back whatever session they opened.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from server.accounts.models import Role
from server.auth.actors import actor_by_email
from server.campaigns import workflow
from server.campaigns.files.check import check_campaign
from server.campaigns.files.export import PosterFiles, export_campaign, find_campaign
from server.campaigns.files.plan import make_plan, render_plan
from server.campaigns.files.service import apply_file
from server.campaigns.models import Campaign
from server.campaigns.schemas import CampaignSummary
from server.campaigns.services import get_campaign
from server.cli import JSON, emit, friendly, now, reading, settings_from, writing
from server.storage import make_store

EXIT_PROBLEMS = 2

ORG = click.option("--org", "org", help="Organisation the campaign belongs to.")


def _print_problems(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} problem{'s' if len(lines) != 1 else ''}", err=True)
    sys.exit(EXIT_PROBLEMS)


def _checked(session: Session | None, file: str, org: str | None, start_on: date | None) -> Any:
    checked = check_campaign(session, Path(file), org_name=org, start_on=start_on)
    if checked.problems:
        _print_problems(checked.render(file))
    return checked


FILE = click.argument("file", type=click.Path(dir_okay=False))
START_ON = click.option(
    "--start-on",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Move the campaign so that it starts on this date (YYYY-MM-DD).",
)


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@click.group()
def campaign() -> None:
    """Campaign files (check, plan, apply, export) and the approval steps (submit, approve,
    publish, archive)."""


@campaign.command("check")
@FILE
@ORG
@START_ON
@click.pass_context
@friendly
def check_cmd(ctx: click.Context, file: str, org: str | None, start_on: datetime | None) -> None:
    """Check FILE completely; print each problem as FILE:LINE: field: reason (exit 2)."""
    with reading(ctx, required=False) as session:
        checked = _checked(session, file, org, _day(start_on))
        spec = checked.spec
        click.echo(
            f"{file}: ok: campaign {spec.name!r}, {len(spec.playlists)} playlists,"
            f" {len(spec.entries)} schedule entries"
        )
        if session is None:
            click.echo(
                "note: no database yet, so organisation, group and screen names were not checked",
                err=True,
            )


@campaign.command("plan")
@FILE
@ORG
@START_ON
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.pass_context
@friendly
def plan_cmd(
    ctx: click.Context, file: str, org: str | None, start_on: datetime | None, as_json: bool
) -> None:
    """Show what applying FILE would add, change and remove, and the conflicts it brings."""
    with reading(ctx) as session:
        assert session is not None
        checked = _checked(session, file, org, _day(start_on))
        plan = make_plan(session, checked.bound, now(ctx))
    if as_json:
        click.echo(json.dumps(_plan_json(plan), ensure_ascii=False, indent=2))
    else:
        for line in render_plan(plan):
            click.echo(line)


def _plan_json(plan: Any) -> dict[str, Any]:
    return {
        "campaign": plan.campaign,
        "organisation": plan.organisation,
        "new": plan.new,
        "status": plan.status,
        "changes": [{"op": c.op, "what": c.what, "detail": c.detail} for c in plan.changes],
        "conflicts": [
            {
                "start": c.start.isoformat(),
                "end": c.end.isoformat(),
                "screens": list(c.screens),
                "rules": list(c.rules),
                "detail": c.detail,
            }
            for c in plan.conflicts
        ],
    }


@campaign.command("apply")
@FILE
@ORG
@START_ON
@click.option("--as", "as_email", help="Act as this user (audit, roles); default: full rights.")
@click.option("--publish", is_flag=True, help="Publish straight away (approvers and admins).")
@click.pass_context
@friendly
def apply_cmd(
    ctx: click.Context,
    file: str,
    org: str | None,
    start_on: datetime | None,
    as_email: str | None,
    publish: bool,
) -> None:
    """Apply FILE as a draft (or published, with --publish); again, it changes nothing."""
    settings = settings_from(ctx)
    with writing(ctx) as session:
        checked = _checked(session, file, org, _day(start_on))
        outcome = apply_file(
            session,
            make_store(settings),
            settings,
            checked.bound,
            now(ctx),
            as_email=as_email,
            publish=publish,
        )
    for line in outcome:
        click.echo(line)


@campaign.command("export")
@click.argument("name")
@ORG
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Write NAME.yaml and its posters into this folder (else: print, posters by sha256).",
)
@click.pass_context
@friendly
def export_cmd(ctx: click.Context, name: str, org: str | None, out: str | None) -> None:
    """Print campaign NAME as a campaign file that applies back to the same content."""
    with reading(ctx) as session:
        assert session is not None
        found = find_campaign(session, name, org)
        if out is None:
            click.echo(export_campaign(session, found), nl=False)
            return
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        text = export_campaign(
            session, found, PosterFiles(session, make_store(settings_from(ctx)), folder)
        )
    target = folder / f"{_slug(name)}.yaml"
    target.write_text(text, encoding="utf-8")
    click.echo(str(target))


def _slug(name: str) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(p for p in kept.split("-") if p) or "campaign"


def campaign_json(session: Session, found: Campaign) -> dict[str, Any]:
    """A campaign as the REST resource's summary shows it (`CampaignSummary`)."""
    return CampaignSummary(
        id=found.id,
        organisation_id=found.organisation_id,
        name=found.name,
        description=found.description,
        timezone=found.timezone,
        start_date=found.start_date,
        end_date=found.end_date,
        targets=found.targets or {},
        status=found.status.value,
        live=workflow.is_live(session, found.id),
        submitted_by_id=found.submitted_by_id,
        approved_by_id=found.approved_by_id,
        published_at=found.published_at,
        effective_at=found.effective_at,
        created_at=found.created_at,
        updated_at=found.updated_at,
    ).model_dump(mode="json")


def _step(ctx: click.Context, ref: str, org: str | None, as_email: str | None, step: str) -> Any:
    """Run one workflow step on campaign REF (name or id) as the actor; its JSON and a line."""
    settings, at = settings_from(ctx), now(ctx)
    role = Role.OPERATOR if step == "submit" else Role.APPROVER
    with writing(ctx) as session:
        actor = actor_by_email(session, as_email)
        named = None if ref.isdigit() else find_campaign(session, ref, org)
        found = get_campaign(session, actor, named.id if named else int(ref), role)
        if step == "submit":
            workflow.submit(session, found, actor, at)
        elif step == "approve":
            workflow.approve(session, found, actor, at)
        elif step == "publish":
            workflow.publish(
                session, found, actor, at, settings, immediate=ctx.params.get("immediate", False)
            )
        else:
            workflow.archive(session, found, actor, at, settings)
        session.flush()
        payload = campaign_json(session, found)
    line = f"campaign {payload['id']} {payload['name']!r}: {payload['status']}"
    if step in ("publish", "archive") and payload["effective_at"]:
        line += f", on screens from {payload['effective_at']}" if step == "publish" else (
            f", off screens from {payload['effective_at']}"
        )
    return payload, line


REF = click.argument("ref")
AS_USER = click.option(
    "--as", "as_email", help="Act as this user (roles; the audit names them). Default: full rights."
)


@campaign.command("submit")
@REF
@ORG
@AS_USER
@JSON
@click.pass_context
@friendly
def submit_cmd(
    ctx: click.Context, ref: str, org: str | None, as_email: str | None, as_json: bool
) -> None:
    """Submit draft campaign REF (name or id) for approval."""
    payload, line = _step(ctx, ref, org, as_email, "submit")
    emit(as_json, payload, [line])


@campaign.command("approve")
@REF
@ORG
@AS_USER
@JSON
@click.pass_context
@friendly
def approve_cmd(
    ctx: click.Context, ref: str, org: str | None, as_email: str | None, as_json: bool
) -> None:
    """Approve submitted campaign REF (never your own submission)."""
    payload, line = _step(ctx, ref, org, as_email, "approve")
    emit(as_json, payload, [line])


@campaign.command("publish")
@REF
@ORG
@AS_USER
@click.option("--immediate", is_flag=True, help="Start at once (takeover-only campaigns).")
@JSON
@click.pass_context
@friendly
def publish_cmd(
    ctx: click.Context,
    ref: str,
    org: str | None,
    as_email: str | None,
    immediate: bool,
    as_json: bool,
) -> None:
    """Publish campaign REF (approved; approvers may publish a draft directly)."""
    payload, line = _step(ctx, ref, org, as_email, "publish")
    emit(as_json, payload, [line])


@campaign.command("archive")
@REF
@ORG
@AS_USER
@JSON
@click.pass_context
@friendly
def archive_cmd(
    ctx: click.Context, ref: str, org: str | None, as_email: str | None, as_json: bool
) -> None:
    """Archive campaign REF: off screens at the next effective instant, out of the workflow."""
    payload, line = _step(ctx, ref, org, as_email, "archive")
    emit(as_json, payload, [line])
