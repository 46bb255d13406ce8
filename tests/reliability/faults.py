"""What the reliability tests look at after a fault: the media store on disk, the rows that
name its blobs, and servers restarted with their fault points disarmed."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

from tests.integration.conftest import ServerProcess

FAULTS_ENV = "SIGNAGE_FAULTS"


def media_root(server: ServerProcess) -> Path:
    return server.settings().media_root


def blobs(server: ServerProcess) -> set[str]:
    """Every blob in the server's local store."""
    return set(server.store().iter_hashes())


def half_written(server: ServerProcess) -> list[str]:
    """Staged uploads left behind, and blobs whose bytes are not their name's hash."""
    root = media_root(server)
    found = [str(p) for p in (root / "tmp").glob("*")] if (root / "tmp").is_dir() else []
    store = server.store()
    for sha in store.iter_hashes():
        with store.open(sha) as fh:
            if hashlib.file_digest(fh, "sha256").hexdigest() != sha:
                found.append(sha)
    return found


def referenced(server: ServerProcess) -> set[str]:
    """Every blob some row needs: the gc's own definition of live, less the slogans' hashes
    (a slogan asset's hash is of its text and style; its renderings are the blobs)."""
    from sqlalchemy import select

    from server.assets.gc import live_hashes
    from server.assets.models import Asset, AssetKind

    with server.session() as session:
        slogans = set(session.scalars(select(Asset.sha256).where(Asset.kind == AssetKind.SLOGAN)))
        return live_hashes(session) - slogans


def restart_disarmed(server: ServerProcess) -> None:
    """Start the (dead) server again with no fault point armed."""
    server.stop()
    server.env.pop(FAULTS_ENV, None)
    server.start()


def media_gc(server: ServerProcess, *, later: timedelta) -> str:
    """`signage media gc --delete` (click's runner, the server's settings and FileClock) as
    the server's clock stands `later` from now; its output."""
    from click.testing import CliRunner

    from server.__main__ import cli

    env = {k: v for k, v in server.env.items() if k.startswith("SIGNAGE_")}
    server.set_clock(later)
    try:
        done = CliRunner().invoke(cli, ["media", "gc", "--delete"], env=env)
    finally:
        server.set_clock(None)
    assert done.exit_code == 0, done.output
    return done.stdout
