"""`signage asset add` and `signage media gc` on the app's own database and store."""

from __future__ import annotations

import io
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.__main__ import cli
from server.assets.gc import collect, live_hashes
from server.assets.models import Asset, Variant
from server.campaigns.models import Publication
from server.clock import write_clock_file
from server.db import get_db
from server.media.pipeline import ingest_image
from server.media.store import LocalStore
from tests.conftest import T0
from tests.factories import World
from tests.server.assets.helpers import MAX_UPLOAD_BYTES, blobs, body, counts, upload
from tests.server.media.samples import HOSTILE, encoded, noise, write


class Signage(Protocol):
    def __call__(self, *args: str, at: datetime | None = None) -> Result: ...


@pytest.fixture
def signage(app: Flask, tmp_path: Path, database_url: str) -> Signage:
    """Run `signage …` against the app's database and instance, with a file clock."""
    clock_file = tmp_path / "clock"

    def run(*args: str, at: datetime | None = None) -> Result:
        write_clock_file(clock_file, at or T0)
        env = {
            "SIGNAGE_DATABASE_URL": database_url,
            "SIGNAGE_SECRET_KEY": "test-secret",
            "SIGNAGE_MEDIA_PATH": "",
            "SIGNAGE_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
            "SIGNAGE_CLOCK_FILE": str(clock_file),
        }
        instance = str(app.config["SIGNAGE"].instance_path)
        return CliRunner().invoke(cli, ["--instance", instance, *args], obj={}, env=env)

    return run


def age_everything(root: Path, when: datetime) -> None:
    """Give every stored file the modification time `when` (as if written then)."""
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (when.timestamp(), when.timestamp()))


def test_asset_add_reports_each_file_and_fails_if_any_was_refused(
    signage: Signage, world: World, session: Session, tmp_path: Path, media_root: Path
) -> None:
    good = write(tmp_path / "good.png", encoded(noise(64, 48), "PNG"))
    copy = write(tmp_path / "copy.png", good.read_bytes())
    svg = next(h for h in HOSTILE if h.name == "script.svg")
    bad = write(tmp_path / "evil.svg", svg.make())

    result = signage(
        "asset", "add", str(good), str(copy), str(bad), str(tmp_path / "gone.png"), "--org", "City"
    )

    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    sha = session.scalar(select(Asset.sha256))
    assert lines[0] == f"added {sha} good.png"
    assert lines[1] == f"exists {sha} copy.png"
    assert (
        lines[2].startswith("refused evil.svg: only PNG, JPEG, WebP and GIF") and "SVG" in lines[2]
    )
    assert lines[3].startswith("refused gone.png: cannot read it")
    assert counts(session) == (1, 1)  # the asset and its thumbnail
    asset = session.scalar(select(Asset))
    assert asset is not None and asset.organisation_id == world.city.id
    assert asset.created_at == T0 and asset.original_name == "good.png"

    again = signage("asset", "add", str(copy), "--org", "City", "--title", "Again")
    assert again.exit_code == 0 and again.output == f"exists {sha} copy.png\n"
    unknown = signage("asset", "add", str(good), "--org", "Nowhere")
    assert unknown.exit_code == 1 and "no organisation named 'Nowhere'" in unknown.output


def test_gc_lists_then_deletes_only_bytes_nothing_needs(
    signage: Signage,
    client: FlaskClient,
    world: World,
    session: Session,
    app: Flask,
    media_root: Path,
) -> None:
    headers = world["operator"].headers
    kept = body(upload(client, headers, encoded(noise(50, 40), "PNG"), "kept.png"))
    gone = body(upload(client, headers, encoded(noise(60, 40), "PNG"), "gone.png"))
    assert client.delete(f"/api/v1/assets/{gone['id']}", headers=headers).status_code == 204
    store = LocalStore(media_root)
    # A crash between storing bytes and recording them, and an upload killed mid-body.
    crashed = ingest_image(store, io.BytesIO(encoded(noise(30, 30), "PNG")), max_bytes=10**6)
    write(media_root / "tmp" / "put-0123456789abcdef01234567.part", b"half an upload")
    age_everything(media_root, T0)
    gone_thumb = session.scalar(
        select(Variant.sha256).where(Variant.source_sha256 == gone["sha256"])
    )
    assert gone_thumb is not None and store.exists(gone["sha256"]), "a delete leaves the bytes"
    before = blobs(media_root)

    within_grace = signage("media", "gc", at=T0 + timedelta(minutes=30))
    assert within_grace.exit_code == 0, within_grace.output
    assert (
        "0 blob(s)" in within_grace.output
        and "3 recent unreferenced blob(s) kept" in within_grace.output
    )

    dry = signage("media", "gc", at=T0 + timedelta(hours=2))
    assert dry.exit_code == 0, dry.output
    listed = {line.split()[1] for line in dry.output.splitlines()[:-1]}
    assert listed == {gone["sha256"], gone_thumb, crashed.sha256}
    assert "1 orphaned variant row(s) would be dropped" in dry.output
    assert blobs(media_root) == before and counts(session) == (1, 2)

    real = signage("media", "gc", "--delete", at=T0 + timedelta(hours=25))
    assert real.exit_code == 0, real.output
    assert "deleted temp put-0123456789abcdef01234567.part" in real.output
    assert "1 orphaned variant row(s) dropped" in real.output
    assert counts(session) == (1, 1)
    assert (
        set(store.iter_hashes()) == live_hashes(session) == {kept["sha256"], _thumb(session, kept)}
    )
    assert not (media_root / "tmp").exists() or not any((media_root / "tmp").iterdir())
    with get_db(app).session() as check:
        for asset in check.scalars(select(Asset)):
            assert store.exists(asset.sha256), "no row without its bytes"


def _thumb(session: Session, asset: dict[str, Any]) -> str:
    sha = session.scalar(select(Variant.sha256).where(Variant.source_sha256 == asset["sha256"]))
    assert sha is not None
    return sha


def test_published_content_keeps_its_bytes_after_the_asset_is_deleted(
    client: FlaskClient, world: World, session: Session, app: Flask, media_root: Path
) -> None:
    headers = world["operator"].headers
    poster = body(upload(client, headers, encoded(noise(50, 40), "PNG")))
    thumb = _thumb(session, poster)
    snapshot = {
        "playlists": {"1": {"items": [{"asset_id": poster["id"], "sha256": poster["sha256"]}]}}
    }
    session.add(Publication(action="publish", published_at=T0, effective_at=T0, snapshot=snapshot))
    session.commit()
    assert client.delete(f"/api/v1/assets/{poster['id']}", headers=headers).status_code == 204
    age_everything(media_root, T0)

    found = collect(
        get_db(app).session, LocalStore(media_root), T0 + timedelta(days=2), dry_run=False
    )

    assert found.report.unreferenced == () and found.orphan_variants == 0
    assert set(LocalStore(media_root).iter_hashes()) == {poster["sha256"], thumb}
