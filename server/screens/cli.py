"""`signage screens`: the fleet as a table — name, organisation, online, last seen, showing."""

from __future__ import annotations

from datetime import datetime

import click

from server.accounts.models import Organisation
from server.accounts.organisations import by_name
from server.cli import friendly, now, reading, settings_from
from server.screens.models import Screen
from server.screens.status import FleetRow, fleet_row, fleet_select


def _ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "never"
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        return then.strftime("%Y-%m-%d %H:%M:%SZ")
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def render_table(rows: list[FleetRow], now: datetime) -> str:
    """The rows as aligned text columns."""
    header = ("NAME", "ORGANISATION", "STATE", "LAST SEEN", "SHOWING")
    lines = [
        (
            r.name,
            r.organisation,
            ("online" if r.online else "offline") + ("" if r.paired else " (unpaired)"),
            _ago(r.last_seen_at, now),
            r.showing,
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=False)]
    out = []
    for line in (header, *lines):
        out.append("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
    return "\n".join(out)


@click.command("screens")
@click.option("--org", "org_name", help="Only this organisation and the ones below it.")
@click.option(
    "--state",
    type=click.Choice(["all", "online", "offline"]),
    default="all",
    show_default=True,
    help="Only screens in this state.",
)
@click.pass_context
@friendly
def screens(ctx: click.Context, org_name: str | None, state: str) -> None:
    """List screens with their online state, when each was last seen and what it shows."""
    settings = settings_from(ctx)
    at = now(ctx)
    with reading(ctx) as session:
        assert session is not None  # reading() raises when there is no database
        where = None
        if org_name:
            where = Organisation.path.startswith(by_name(session, org_name).path)
        stmt = fleet_select(where).order_by(Organisation.path, Screen.name)
        rows = [fleet_row(s, name, at, settings) for s, name in session.execute(stmt)]
    if state != "all":
        rows = [r for r in rows if r.online == (state == "online")]
    click.echo(render_table(rows, at))
    online = sum(r.online for r in rows)
    click.echo(f"{len(rows)} screens, {online} online, {len(rows) - online} offline")
