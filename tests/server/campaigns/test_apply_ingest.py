"""A campaign file's posters go through the one ingest path an upload takes, and
`signage campaign apply` follows the configured clock like the server does."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from server.accounts.models import Organisation
from server.assets.models import Asset, Variant
from server.assets.renders import THUMB_PROFILE
from server.assets.uploads import Author, MediaLimits, upload_image
from server.auth.models import AuditEvent
from server.campaigns.models import Campaign, Publication
from server.clock import write_clock_file
from server.db import Database, make_engine
from server.storage import make_store
from tests.server.campaigns.conftest import Instance
from tests.server.media.samples import encoded, noise

# U+202E (right-to-left override) would let "gnp.exe" pose as "exe.png"; a clean name
# has it removed, as an upload's has.
HOSTILE_NAME = "校园日\u202egnp.png"

CAMPAIGN = """\
campaign: Campus week
timezone: Asia/Shanghai
dates: 2026-01-05 .. 2026-01-11
playlists:
  week:
    - poster: posters/{name}
      duration: 10s
schedule:
  - play: week
"""


def campaign_file(folder: Path, poster: bytes, name: str = HOSTILE_NAME) -> Path:
    (folder / "posters").mkdir(parents=True, exist_ok=True)
    (folder / "posters" / name).write_bytes(poster)
    path = folder / "campus.yaml"
    path.write_text(CAMPAIGN.format(name=name), encoding="utf-8")
    return path


def assets_of(instance: Instance) -> list[Asset]:
    with instance.session() as s:
        return list(s.scalars(select(Asset).order_by(Asset.id)))


def test_a_poster_is_ingested_like_an_upload(instance: Instance, tmp_path: Path) -> None:
    poster = encoded(noise(320, 180), "PNG")
    path = campaign_file(tmp_path / "files", poster)
    result = instance.run("campaign", "apply", str(path), "--org", "City")
    assert result.exit_code == 0, result.output

    [asset] = assets_of(instance)
    assert asset.original_name == "校园日gnp.png"  # the format character is gone
    assert asset.title == "校园日gnp"
    with instance.session() as s:
        thumbs = s.scalar(
            select(func.count())
            .select_from(Variant)
            .where(Variant.source_sha256 == asset.sha256, Variant.profile == THUMB_PROFILE)
        )
    assert thumbs == 1

    # The same bytes uploaded afterwards (`signage asset add` is the upload path on the
    # command line) are the same asset: one per organisation.
    upload = tmp_path / "again.png"
    upload.write_bytes(poster)
    added = instance.run("asset", "add", str(upload), "--org", "City")
    assert added.exit_code == 0, added.output
    assert added.output.startswith(f"exists {asset.sha256}")
    assert [a.id for a in assets_of(instance)] == [asset.id]


def test_an_uploaded_image_is_the_posters_asset(instance: Instance, tmp_path: Path) -> None:
    poster = encoded(noise(200, 200), "PNG")
    upload = tmp_path / "first.png"
    upload.write_bytes(poster)
    assert instance.run("asset", "add", str(upload), "--org", "City").exit_code == 0
    [uploaded] = assets_of(instance)

    path = campaign_file(tmp_path / "files", poster, name="poster.png")
    result = instance.run("campaign", "apply", str(path), "--org", "City")
    assert result.exit_code == 0, result.output
    assert [a.id for a in assets_of(instance)] == [uploaded.id]


def test_apply_racing_uploads_on_sqlite_both_succeed(instance: Instance, tmp_path: Path) -> None:
    """Uploads commit while the apply normalises its posters: nothing fails with
    "database is locked", and every upload and the campaign land."""
    posters = [encoded(noise(900 + i, 700), "PNG") for i in range(4)]
    folder = tmp_path / "files"
    (folder / "posters").mkdir(parents=True)
    lines = [
        "campaign: Race week",
        "timezone: Asia/Shanghai",
        "dates: 2026-01-05 .. 2026-01-11",
        "playlists:",
        "  week:",
    ]
    for i, data in enumerate(posters):
        (folder / "posters" / f"{i}.png").write_bytes(data)
        lines += [f"    - poster: posters/{i}.png", "      duration: 10s"]
    lines += ["schedule:", "  - play: week", ""]
    path = folder / "race.yaml"
    path.write_text("\n".join(lines), encoding="utf-8")

    database = Database(make_engine(instance.settings))
    store, limits = make_store(instance.settings), MediaLimits.from_settings(instance.settings)
    answers: list[bool] = []
    stop = threading.Event()

    def upload_loop() -> None:
        # The service the upload view calls, in its own connection, as a request would.
        for i in range(40):
            if stop.is_set():
                return
            with database.sessions() as session:
                org = session.scalar(select(Organisation).where(Organisation.name == "City"))
                assert org is not None
                created = upload_image(
                    session,
                    store,
                    org,
                    io.BytesIO(encoded(noise(300 + i, 200), "PNG")),
                    name=f"u{i}.png",
                    title="",
                    now=datetime.now(UTC),
                    limits=limits,
                    author=Author(None, "race"),
                )
                session.commit()
                answers.append(created.created)

    worker = threading.Thread(target=upload_loop)
    worker.start()
    try:
        result = instance.run("campaign", "apply", str(path), "--org", "City")
    finally:
        stop.set()
        worker.join(timeout=300)
        database.engine.dispose()
    assert result.exit_code == 0, result.output
    assert answers and all(answers), answers
    with instance.session() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 1
        assert s.scalar(select(func.count()).select_from(Asset)) == len(posters) + len(answers)


def test_apply_follows_the_configured_clock(instance: Instance, tmp_path: Path) -> None:
    at = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)
    clock_file = tmp_path / "clock"
    write_clock_file(clock_file, at)
    (instance.folder / "signage.toml").write_text(f'clock_file = "{clock_file}"\n')
    path = campaign_file(tmp_path / "files", encoded(noise(120, 90), "PNG"), name="p.png")
    result = instance.run("campaign", "apply", str(path), "--org", "City", "--publish")
    assert result.exit_code == 0, result.output
    with instance.session() as s:
        campaign = s.scalars(select(Campaign)).one()
        publication = s.scalars(select(Publication)).one()
        events = s.scalars(select(AuditEvent.at).where(AuditEvent.at >= at)).all()
        asset = s.scalars(select(Asset)).one()
    assert campaign.created_at == at and asset.created_at == at
    assert publication.published_at == at
    assert at < publication.effective_at <= at + timedelta(minutes=5)
    assert events and all(e == at for e in events)
