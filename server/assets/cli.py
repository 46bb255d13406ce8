"""`signage asset add` (image files become assets) and `signage media gc` (unused bytes)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from server.accounts.models import Organisation
from server.accounts.organisations import by_name
from server.assets.gc import collect
from server.assets.uploads import Author, MediaLimits, display_name, ingest_file
from server.cli import friendly, now, settings_from
from server.db import Database, make_engine
from server.errors import KnownError
from server.storage import make_store

asset: click.Group = click.Group("asset", help="Assets: add image files.")


@asset.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--org", "org_name", required=True, help="Organisation the assets belong to.")
@click.option("--title", default="", help="Title for the new assets (default: the file name).")
@click.pass_context
@friendly
def asset_add(ctx: click.Context, files: tuple[Path, ...], org_name: str, title: str) -> None:
    """Check, normalise and store image FILES; one line each: added, exists or refused.

    Exits non-zero when any file was refused.
    """
    settings = settings_from(ctx)
    store = make_store(settings)
    limits = MediaLimits.from_settings(settings)
    database = Database(make_engine(settings))
    refused = 0
    try:
        with database.session() as session:
            org_id = by_name(session, org_name).id
        for path in files:
            name = display_name(path.name) or "(unnamed)"
            try:
                # One session per file: a refused file does not undo the others.
                with database.sessions() as session:
                    org = session.get(Organisation, org_id)
                    assert org is not None
                    result = ingest_file(
                        session,
                        store,
                        org,
                        path,
                        now=now(ctx),
                        limits=limits,
                        author=Author(None, "cli"),
                    )
                    session.commit()
                    verb, sha = ("added" if result.created else "exists"), result.asset.sha256
            except KnownError as exc:
                refused += 1
                click.echo(f"refused {name}: {exc.detail}")
            except OSError as exc:
                refused += 1
                click.echo(f"refused {name}: cannot read it ({exc.strerror or exc})")
            else:
                click.echo(f"{verb} {sha} {name}")
    finally:
        database.engine.dispose()
    if refused:
        sys.exit(1)


media: click.Group = click.Group("media", help="The media store: collect unused bytes.")


@media.command("gc")
@click.option(
    "--delete", "really", is_flag=True, help="Delete them (default: only list what would go)."
)
@click.pass_context
@friendly
def media_gc(ctx: click.Context, really: bool) -> None:
    """List (or with --delete remove) stored bytes that no asset, variant or screenshot needs.

    Unreferenced bytes younger than the store's grace period (1 h) are kept: an upload
    stores its bytes a moment before its row exists. Temporary files of uploads that
    never finished are removed after 24 h.
    """
    settings = settings_from(ctx)
    database = Database(make_engine(settings))
    try:
        found = collect(
            database.session,
            make_store(settings),
            now(ctx),
            dry_run=not really,
        )
    finally:
        database.engine.dispose()
    report = found.report
    verb = "deleted" if really else "unreferenced"
    for sha in report.unreferenced:
        click.echo(f"{verb} {sha}")
    for temp in report.stale_temps:
        click.echo(f"{verb} temp {temp.name}")
    would = "" if really else "would be "
    click.echo(
        f"{len(report.unreferenced)} blob(s) and {len(report.stale_temps)} stale temp file(s), "
        f"{report.bytes_freed} bytes, {would}freed; {found.orphan_variants} orphaned variant "
        f"row(s) {would}dropped; {len(report.kept_recent)} recent unreferenced blob(s) kept"
        + ("" if really else " (dry run: --delete to delete)")
    )
