"""`signage enrolment-token …`: one secret lets many players join an organisation (create —
the secret is printed once —, list, revoke), through the same services as the REST views."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from server.accounts.organisations import by_name
from server.auth.actors import actor_by_email
from server.cli import AS, JSON, emit, friendly, now, reading, table, writing
from server.screens import joining
from server.screens.models import EnrolmentToken


def token_json(row: EnrolmentToken) -> dict[str, Any]:
    """An enrolment token as the REST resource shows it (`EnrolmentTokenOut`), no secret."""
    return {
        "id": row.id,
        "organisation_id": row.organisation_id,
        "name": row.name,
        "group_ids": list(row.group_ids or []),
        "timezone": row.timezone,
        "max_uses": row.max_uses,
        "uses": row.uses,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
        "created_at": row.created_at,
    }


@click.group("enrolment-token")
def enrolment_token() -> None:
    """Enrolment tokens for mass roll-out: create, list, revoke."""


@enrolment_token.command("create")
@click.option("--org", "org_name", required=True, help="Organisation the players join.")
@click.option("--uses", type=click.IntRange(1, 1_000_000), required=True, help="How many players.")
@click.option(
    "--days", type=click.IntRange(1, 3650), default=7, show_default=True, help="Valid this long."
)
@click.option("--name", default="", help="A label.")
@click.option("--timezone", help="Zone of the screens that join (default: the organisation's).")
@click.option("--group", "groups", type=int, multiple=True, help="A group id (repeatable).")
@AS
@JSON
@click.pass_context
@friendly
def token_create(
    ctx: click.Context,
    org_name: str,
    uses: int,
    days: int,
    name: str,
    timezone: str | None,
    groups: tuple[int, ...],
    as_email: str | None,
    as_json: bool,
) -> None:
    """Create an enrolment token; its secret is printed once (give it to players as
    `signage-player --enrol-token`)."""
    at = now(ctx)
    with writing(ctx) as session:
        row, clear = joining.create_enrolment_token(
            session,
            actor_by_email(session, as_email),
            at,
            organisation_id=by_name(session, org_name).id,
            expires_at=at + timedelta(days=days),
            max_uses=uses,
            group_ids=list(groups),
            timezone=timezone,
            name=name,
        )
        payload = {**token_json(row), "token": clear}
    emit(as_json, payload, [clear])
    if not as_json:
        click.echo(
            f"enrolment token {payload['id']}: {uses} uses until"
            f" {payload['expires_at']:%Y-%m-%d %H:%MZ} (the secret above is shown only now)",
            err=True,
        )


@enrolment_token.command("list")
@click.option("--org", "org_name", required=True, help="Organisation whose tokens to list.")
@AS
@JSON
@click.pass_context
@friendly
def token_list(ctx: click.Context, org_name: str, as_email: str | None, as_json: bool) -> None:
    """An organisation's enrolment tokens (never their secrets)."""
    with reading(ctx) as session:
        assert session is not None
        rows = joining.enrolment_tokens(
            session, actor_by_email(session, as_email), by_name(session, org_name).id
        )
        payload = [token_json(r) for r in rows]
    lines = table(
        ("ID", "NAME", "USES", "ZONE", "EXPIRES", "REVOKED"),
        (
            (
                t["id"],
                t["name"],
                f"{t['uses']}/{t['max_uses']}",
                t["timezone"],
                f"{t['expires_at']:%Y-%m-%d %H:%MZ}",
                f"{t['revoked_at']:%Y-%m-%d %H:%MZ}" if t["revoked_at"] else "",
            )
            for t in payload
        ),
    )
    emit(as_json, payload, lines)


@enrolment_token.command("revoke")
@click.argument("token_id", type=int)
@AS
@JSON
@click.pass_context
@friendly
def token_revoke(ctx: click.Context, token_id: int, as_email: str | None, as_json: bool) -> None:
    """Revoke enrolment token TOKEN_ID (screens that joined with it stay)."""
    with writing(ctx) as session:
        row = joining.revoke_enrolment_token(
            session, actor_by_email(session, as_email), now(ctx), token_id
        )
        payload = token_json(row)
    emit(as_json, payload, [f"revoked enrolment token {token_id}"])
