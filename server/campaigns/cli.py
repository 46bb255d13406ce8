"""`signage campaign …` (check, plan, apply, export) and `signage preview`.

`check`, `plan`, `export` (to stdout) and `preview` only read: they create no instance
folder, no database and no media, and roll back whatever session they opened.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from server.accounts.models import Role
from server.auth.actors import actor_by_email
from server.campaigns import workflow
from server.campaigns.files.export import PosterFiles, export_campaign, find_campaign
from server.campaigns.files.remote import Remote
from server.campaigns.files.said import Said, say_apply, say_check, say_plan
from server.campaigns.models import Campaign
from server.campaigns.schemas import CampaignSummary
from server.campaigns.services import get_campaign
from server.cli import JSON, emit, friendly, now, reading, settings_from, writing
from server.storage import make_store

ORG = click.option("--org", "org", help="Organisation the campaign belongs to.")
FILE = click.argument("file", type=click.Path(dir_okay=False))
START_ON = click.option(
    "--start-on",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Move the campaign so that it starts on this date (YYYY-MM-DD).",
)
SERVER = click.option(
    "--server",
    envvar="SIGNAGE_SERVER",
    help="Ask this server (https://…) instead of the local database. Env: SIGNAGE_SERVER.",
)
TOKEN = click.option(
    "--token", envvar="SIGNAGE_TOKEN", help="API token for --server. Env: SIGNAGE_TOKEN."
)


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _say(said: Said) -> None:
    """Print what a command said, as the local command always has, and exit with its status."""
    for line in said.out:
        click.echo(line)
    for line in said.err:
        click.echo(line, err=True)
    if said.exit:
        sys.exit(said.exit)


def _remote(server: str | None, token: str | None) -> Remote | None:
    if server is None:
        return None
    if not token:
        raise click.UsageError("--server needs --token (or SIGNAGE_TOKEN)")
    return Remote(server, token)


@click.group()
def campaign() -> None:
    """Campaign files (check, plan, apply, export) and the approval steps (submit, approve,
    publish, archive)."""


@campaign.command("check")
@FILE
@ORG
@START_ON
@SERVER
@TOKEN
@click.pass_context
@friendly
def check_cmd(
    ctx: click.Context,
    file: str,
    org: str | None,
    start_on: datetime | None,
    server: str | None,
    token: str | None,
) -> None:
    """Check FILE completely; print each problem as FILE:LINE: field: reason (exit 2)."""
    remote = _remote(server, token)
    if remote is not None:
        _say(remote.send("check", Path(file), file, org=org, start_on=_day(start_on)))
        return
    with reading(ctx, required=False) as session:
        said = say_check(session, Path(file), file, org, _day(start_on), now(ctx))
    _say(said)


@campaign.command("plan")
@FILE
@ORG
@START_ON
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@SERVER
@TOKEN
@click.pass_context
@friendly
def plan_cmd(
    ctx: click.Context,
    file: str,
    org: str | None,
    start_on: datetime | None,
    as_json: bool,
    server: str | None,
    token: str | None,
) -> None:
    """Show what applying FILE would add, change and remove, and the conflicts it brings."""
    remote = _remote(server, token)
    if remote is not None:
        _say(remote.send("plan", Path(file), file, org=org, start_on=_day(start_on), json=as_json))
        return
    with reading(ctx) as session:
        assert session is not None
        said = say_plan(session, Path(file), file, org, _day(start_on), now(ctx), as_json=as_json)
    _say(said)


@campaign.command("apply")
@FILE
@ORG
@START_ON
@click.option("--as", "as_email", help="Act as this user (audit, roles); default: full rights.")
@click.option("--publish", is_flag=True, help="Publish straight away (approvers and admins).")
@SERVER
@TOKEN
@click.pass_context
@friendly
def apply_cmd(
    ctx: click.Context,
    file: str,
    org: str | None,
    start_on: datetime | None,
    as_email: str | None,
    publish: bool,
    server: str | None,
    token: str | None,
) -> None:
    """Apply FILE as a draft (or published, with --publish); again, it changes nothing.

    With --server, the token's user applies it (and --as is refused)."""
    remote = _remote(server, token)
    if remote is not None:
        if as_email:
            raise click.UsageError("--as acts on the local database; --server acts as the token")
        _say(
            remote.send(
                "apply", Path(file), file, org=org, start_on=_day(start_on), publish=publish
            )
        )
        return
    settings = settings_from(ctx)
    with writing(ctx) as session:
        said = say_apply(
            session,
            make_store(settings),
            settings,
            Path(file),
            file,
            org,
            _day(start_on),
            now(ctx),
            actor_by_email(session, as_email),
            publish=publish,
        )
    _say(said)


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
        targets=dict(sorted((found.targets or {}).items())),  # as the API's JSON orders it
        status=found.status.value,
        live=workflow.is_live(session, found.id),
        submitted_by_id=found.submitted_by_id,
        approved_by_id=found.approved_by_id,
        draft_reason=found.draft_reason or "",
        published_at=found.published_at,
        effective_at=found.effective_at,
        created_at=found.created_at,
        updated_at=found.updated_at,
    ).model_dump(mode="json")


def _step(
    ctx: click.Context,
    ref: str,
    org: str | None,
    as_email: str | None,
    step: str,
    comment: str | None = None,
) -> Any:
    """Run one workflow step on campaign REF (name or id) as the actor, here or on --server;
    its JSON (the API's campaign summary) and a line."""
    remote = _remote(ctx.params.get("server"), ctx.params.get("token"))
    if remote is not None:
        if as_email:
            raise click.UsageError("--as acts locally; with --server the token says who acts")
        answer = remote.step(
            step, ref, org=org, immediate=ctx.params.get("immediate", False), comment=comment
        )
        payload = {name: answer.get(name) for name in CampaignSummary.model_fields}
    else:
        payload = _local_step(ctx, ref, org, as_email, step, comment)
    line = f"campaign {payload['id']} {payload['name']!r}: {payload['status']}"
    if step in ("publish", "archive") and payload["effective_at"]:
        line += f", on screens from {payload['effective_at']}" if step == "publish" else (
            f", off screens from {payload['effective_at']}"
        )
    return payload, line


def _local_step(
    ctx: click.Context,
    ref: str,
    org: str | None,
    as_email: str | None,
    step: str,
    comment: str | None,
) -> dict[str, Any]:
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
        elif step == "send-back":
            workflow.send_back(session, found, actor, at, comment or "")
        elif step == "publish":
            workflow.publish(
                session, found, actor, at, settings, immediate=ctx.params.get("immediate", False)
            )
        else:
            workflow.archive(session, found, actor, at, settings)
        session.flush()
        return campaign_json(session, found)


REF = click.argument("ref")
AS_USER = click.option(
    "--as", "as_email", help="Act as this user (roles; the audit names them). Default: full rights."
)


@campaign.command("submit")
@REF
@ORG
@AS_USER
@SERVER
@TOKEN
@JSON
@click.pass_context
@friendly
def submit_cmd(
    ctx: click.Context, ref: str, org: str | None, as_email: str | None, **_: Any
) -> None:
    """Submit draft campaign REF (name or id) for approval."""
    payload, line = _step(ctx, ref, org, as_email, "submit")
    emit(ctx.params["as_json"], payload, [line])


@campaign.command("approve")
@REF
@ORG
@AS_USER
@SERVER
@TOKEN
@JSON
@click.pass_context
@friendly
def approve_cmd(
    ctx: click.Context, ref: str, org: str | None, as_email: str | None, **_: Any
) -> None:
    """Approve submitted campaign REF (never your own submission)."""
    payload, line = _step(ctx, ref, org, as_email, "approve")
    emit(ctx.params["as_json"], payload, [line])


@campaign.command("send-back")
@REF
@ORG
@AS_USER
@SERVER
@TOKEN
@click.option("--comment", required=True, help="Why: the operator reads it on the campaign.")
@JSON
@click.pass_context
@friendly
def send_back_cmd(
    ctx: click.Context, ref: str, org: str | None, as_email: str | None, comment: str, **_: Any
) -> None:
    """Send submitted or approved campaign REF back to draft, saying why (approvers)."""
    payload, line = _step(ctx, ref, org, as_email, "send-back", comment)
    emit(ctx.params["as_json"], payload, [line])


@campaign.command("publish")
@REF
@ORG
@AS_USER
@SERVER
@TOKEN
@click.option("--immediate", is_flag=True, help="Start at once (takeover-only campaigns).")
@JSON
@click.pass_context
@friendly
def publish_cmd(
    ctx: click.Context, ref: str, org: str | None, as_email: str | None, **_: Any
) -> None:
    """Publish campaign REF (approved; approvers may publish a draft directly)."""
    payload, line = _step(ctx, ref, org, as_email, "publish")
    emit(ctx.params["as_json"], payload, [line])


@campaign.command("archive")
@REF
@ORG
@AS_USER
@SERVER
@TOKEN
@JSON
@click.pass_context
@friendly
def archive_cmd(
    ctx: click.Context, ref: str, org: str | None, as_email: str | None, **_: Any
) -> None:
    """Archive campaign REF: off screens at the next effective instant, out of the workflow."""
    payload, line = _step(ctx, ref, org, as_email, "archive")
    emit(ctx.params["as_json"], payload, [line])
