"""`signage screens` (the fleet at a glance) and `signage screen …` (one screen: list, show,
create, edit, pair by code, revoke), through the same services as the REST views."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.accounts.organisations import by_name
from server.auth.actors import actor_by_email
from server.campaigns.preview import find_screen
from server.cli import AS, JSON, emit, friendly, now, reading, settings_from, table, writing
from server.config import Settings
from server.screens import joining
from server.screens import services as service
from server.screens.models import Screen
from server.screens.status import FleetRow, asset_titles, fleet_row, fleet_select


def _ago(then: datetime, now: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def _when(then: datetime | None, now: datetime, never: str = "never") -> str:
    """An absolute instant (UTC), with how long ago it was."""
    if then is None:
        return never
    return f"{then.strftime('%Y-%m-%d %H:%M:%SZ')} ({_ago(then, now)})"


def render_table(rows: list[FleetRow], now: datetime) -> list[str]:
    """The rows as columns aligned by display width (Chinese names take two columns each)."""
    header = ("NAME", "ORGANISATION", "STATE", "LAST SEEN", "OFFLINE SINCE", "SHOWING")
    return table(
        header,
        (
            (
                r.name,
                r.organisation,
                ("online" if r.online else "offline") + ("" if r.paired else " (unpaired)"),
                _when(r.last_seen_at, now),
                "" if r.online else _when(r.offline_since, now, never="never seen"),
                r.showing,
            )
            for r in rows
        ),
    )


def _fleet_json(row: FleetRow) -> dict[str, Any]:
    return asdict(row)


@click.command("screens")
@click.option("--org", "org_name", help="Only this organisation and the ones below it.")
@click.option(
    "--state",
    type=click.Choice(["all", "online", "offline"]),
    default="all",
    show_default=True,
    help="Only screens in this state.",
)
@JSON
@click.pass_context
@friendly
def screens(ctx: click.Context, org_name: str | None, state: str, as_json: bool) -> None:
    """The fleet: each screen's state, when it was last seen (UTC), since when it is offline
    (last seen plus the offline threshold) and what it shows ("unknown" when offline)."""
    settings = settings_from(ctx)
    at = now(ctx)
    with reading(ctx) as session:
        assert session is not None  # reading() raises when there is no database
        where = None
        if org_name:
            where = Organisation.path.startswith(by_name(session, org_name).path)
        found = list(session.execute(fleet_select(where).order_by(Organisation.path, Screen.name)))
        titles = asset_titles(session, [s for s, _ in found])
        rows = [fleet_row(s, name, at, settings, titles) for s, name in found]
    if state != "all":
        rows = [r for r in rows if r.online == (state == "online")]
    online = sum(r.online for r in rows)
    emit(
        as_json,
        {"at": at, "screens": [_fleet_json(r) for r in rows]},
        [
            *render_table(rows, at),
            f"{len(rows)} screens, {online} online, {len(rows) - online} offline",
        ],
    )


def screen_json(screen: Screen, at: datetime, settings: Settings) -> dict[str, Any]:
    """A screen as the REST resource shows it (`ScreenOut`)."""
    return {
        "id": screen.id,
        "name": screen.name,
        "organisation_id": screen.organisation_id,
        "organisation": screen.organisation.name,
        "timezone": screen.timezone,
        "width": screen.width,
        "height": screen.height,
        "orientation": screen.orientation,
        "location": screen.location,
        "tags": list(screen.tags or []),
        "group_ids": sorted(g.id for g in screen.groups),
        "paired": screen.device_token_hash is not None,
        "last_seen_at": screen.last_seen_at,
        "online": service.is_online(screen.last_seen_at, at, settings),
        "status": dict(screen.status or {}),
        "created_at": screen.created_at,
    }


def _line(screen: Screen) -> str:
    size = f"{screen.width}x{screen.height}"
    return (
        f"screen {screen.id} {screen.name} ({screen.organisation.name}, {screen.timezone}, {size})"
    )


def _org_id(session: Session, name: str | None) -> int | None:
    return by_name(session, name).id if name else None


def _group_ids(values: tuple[int, ...]) -> list[int]:
    return list(values)


@click.group()
def screen() -> None:
    """One screen at a time: list, show, create, edit, pair by code, revoke."""


@screen.command("list")
@click.option("--org", "org_name", help="Only screens of this organisation.")
@click.option("--group", "group_id", type=int, help="Only screens in this group (id) or below.")
@click.option("--tag", help="Only screens with this tag.")
@click.option("--name", help="Only screens whose name contains this.")
@AS
@JSON
@click.pass_context
@friendly
def screen_list(
    ctx: click.Context,
    org_name: str | None,
    group_id: int | None,
    tag: str | None,
    name: str | None,
    as_email: str | None,
    as_json: bool,
) -> None:
    """Screens with their details, by organisation and name."""
    settings, at = settings_from(ctx), now(ctx)
    with reading(ctx) as session:
        assert session is not None
        actor = actor_by_email(session, as_email)
        filters = service.ScreenFilter(
            organisation_id=_org_id(session, org_name), group_id=group_id, tag=tag, name=name
        )
        stmt = service.screens_select(session, actor, filters, at, settings)
        found = list(session.scalars(stmt.order_by(Organisation.path, Screen.name)))
        payload = [screen_json(s, at, settings) for s in found]
        rows = [
            (
                s.id,
                s.name,
                s.organisation.name,
                s.timezone,
                f"{s.width}x{s.height}",
                " ".join(s.tags),
            )
            for s in found
        ]
    emit(as_json, payload, table(("ID", "NAME", "ORGANISATION", "ZONE", "SIZE", "TAGS"), rows))


@screen.command("show")
@click.argument("screen_name")
@click.option("--org", "org_name", help="Organisation, when several screens share the name.")
@AS
@JSON
@click.pass_context
@friendly
def screen_show(
    ctx: click.Context, screen_name: str, org_name: str | None, as_email: str | None, as_json: bool
) -> None:
    """One screen by name (any case) or id, with its status."""
    settings, at = settings_from(ctx), now(ctx)
    with reading(ctx) as session:
        assert session is not None
        actor = actor_by_email(session, as_email)
        found = find_screen(session, screen_name, org_name)
        shown = service.get_screen(session, actor, found.id)
        payload = screen_json(shown, at, settings)
    lines = [f"{k}: {v}" for k, v in payload.items() if k not in ("status",)]
    lines += [f"status.{k}: {v}" for k, v in payload["status"].items()]
    emit(as_json, payload, lines)


@screen.command("create")
@click.argument("name")
@click.option("--org", "org_name", required=True, help="Organisation the screen belongs to.")
@click.option("--timezone", help="IANA zone (default: the organisation's).")
@click.option("--width", type=click.IntRange(1, 16384), default=1920, show_default=True)
@click.option("--height", type=click.IntRange(1, 16384), default=1080, show_default=True)
@click.option("--location", default="", help="Where it hangs.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeat for several).")
@click.option("--group", "groups", type=int, multiple=True, help="A group id (repeatable).")
@AS
@JSON
@click.pass_context
@friendly
def screen_create(
    ctx: click.Context,
    name: str,
    org_name: str,
    timezone: str | None,
    width: int,
    height: int,
    location: str,
    tags: tuple[str, ...],
    groups: tuple[int, ...],
    as_email: str | None,
    as_json: bool,
) -> None:
    """Pre-register a screen NAME; its player pairs with it later."""
    settings, at = settings_from(ctx), now(ctx)
    with writing(ctx) as session:
        created = service.create_screen(
            session,
            actor_by_email(session, as_email),
            at,
            organisation_id=by_name(session, org_name).id,
            name=name,
            timezone=timezone,
            width=width,
            height=height,
            location=location,
            tags=list(tags),
            group_ids=_group_ids(groups),
        )
        payload, line = screen_json(created, at, settings), _line(created)
    emit(as_json, payload, [line])


@screen.command("edit")
@click.argument("screen_name")
@click.option("--org", "org_name", help="Organisation, when several screens share the name.")
@click.option("--name", "new_name", help="New name.")
@click.option("--timezone", help="IANA zone.")
@click.option("--width", type=click.IntRange(1, 16384))
@click.option("--height", type=click.IntRange(1, 16384))
@click.option("--location")
@click.option("--tag", "tags", multiple=True, help="Replace the tags (repeatable).")
@click.option("--no-tags", is_flag=True, help="Remove every tag.")
@click.option("--group", "groups", type=int, multiple=True, help="Replace the groups (ids).")
@click.option("--no-groups", is_flag=True, help="Take the screen out of every group.")
@AS
@JSON
@click.pass_context
@friendly
def screen_edit(
    ctx: click.Context,
    screen_name: str,
    org_name: str | None,
    new_name: str | None,
    timezone: str | None,
    width: int | None,
    height: int | None,
    location: str | None,
    tags: tuple[str, ...],
    no_tags: bool,
    groups: tuple[int, ...],
    no_groups: bool,
    as_email: str | None,
    as_json: bool,
) -> None:
    """Change a screen's name, zone, size, location, tags or groups; the rest stays."""
    changes: dict[str, Any] = {
        k: v
        for k, v in (
            ("name", new_name),
            ("timezone", timezone),
            ("width", width),
            ("height", height),
            ("location", location),
        )
        if v is not None
    }
    if tags or no_tags:
        changes["tags"] = list(tags)
    if groups or no_groups:
        changes["group_ids"] = list(groups)
    if not changes:
        raise click.UsageError("nothing to change: give at least one option")
    settings, at = settings_from(ctx), now(ctx)
    with writing(ctx) as session:
        found = find_screen(session, screen_name, org_name)
        edited = service.update_screen(
            session, actor_by_email(session, as_email), at, found.id, changes
        )
        payload, line = screen_json(edited, at, settings), _line(edited)
    emit(as_json, payload, [line])


@screen.command("pair")
@click.argument("code")
@click.option("--org", "org_name", help="Organisation the screen joins (unless --replace).")
@click.option(
    "--replace",
    "replace",
    help="Screen (name or id) whose device this one replaces: it keeps its place and history.",
)
@click.option("--name", help="Screen name (default: the name the player gave, or its id).")
@click.option("--timezone", help="IANA zone (default: the organisation's).")
@click.option("--group", "groups", type=int, multiple=True, help="A group id (repeatable).")
@AS
@JSON
@click.pass_context
@friendly
def screen_pair(
    ctx: click.Context,
    code: str,
    org_name: str | None,
    replace: str | None,
    name: str | None,
    timezone: str | None,
    groups: tuple[int, ...],
    as_email: str | None,
    as_json: bool,
) -> None:
    """Claim the pairing CODE a screen shows; its player collects its token at its next hello."""
    if (org_name is None) == (replace is None):
        raise click.UsageError("give --org (a new screen) or --replace SCREEN")
    settings, at = settings_from(ctx), now(ctx)
    with writing(ctx) as session:
        claimed, replaced = joining.claim_code(
            session,
            actor_by_email(session, as_email),
            at,
            code=code,
            organisation_id=by_name(session, org_name).id if org_name else None,
            replace_screen_id=find_screen(session, replace).id if replace else None,
            name=name,
            group_ids=_group_ids(groups),
            timezone=timezone,
        )
        payload = screen_json(claimed, at, settings)
        line = ("new device for " if replaced else "paired ") + _line(claimed)
    emit(as_json, payload, [line])


@screen.command("revoke")
@click.argument("screen_name")
@click.option("--org", "org_name", help="Organisation, when several screens share the name.")
@AS
@JSON
@click.pass_context
@friendly
def screen_revoke(
    ctx: click.Context, screen_name: str, org_name: str | None, as_email: str | None, as_json: bool
) -> None:
    """Revoke the screen's device token: its player is refused and pairs again."""
    settings, at = settings_from(ctx), now(ctx)
    with writing(ctx) as session:
        found = find_screen(session, screen_name, org_name)
        revoked = joining.revoke_device(session, actor_by_email(session, as_email), at, found.id)
        session.flush()
        session.refresh(revoked)
        payload = screen_json(revoked, at, settings)
        line = f"revoked the device token of screen {revoked.id} {revoked.name}"
    emit(as_json, payload, [line])
