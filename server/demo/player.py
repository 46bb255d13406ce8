"""The demo's own screen: a real `signage-player` beside the demo server, enrolled in the
province with an enrolment token made for it, in a window when there is a desktop."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from server.accounts.models import Organisation
from server.clock import from_settings as clock_from_settings
from server.config import Settings
from server.db import Database, make_engine
from server.demo.seed import PROVINCE
from server.screens.enrolment import issue_enrolment_token

DEMO_SCREEN = "Demo screen"
DEMO_TIMEZONE = "Asia/Shanghai"
TOKEN_LIFETIME = timedelta(days=1)


def player_command() -> Path | None:
    """`signage-player` from the same environment as this interpreter, if installed there."""
    path = Path(sys.executable).parent / "signage-player"
    return path if path.is_file() and os.access(path, os.X_OK) else None


def has_display(environ: Mapping[str, str] | None = None) -> bool:
    """A desktop to open a window on, and pygame to open it with."""
    env = os.environ if environ is None else environ
    desktop = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return desktop and importlib.util.find_spec("pygame") is not None


def demo_enrolment_token(settings: Settings, now: datetime) -> str | None:
    """A one-use enrolment token for the demo's province (None if the demo is not seeded)."""
    engine = make_engine(settings)
    try:
        with Database(engine).session() as session:
            org = session.scalar(select(Organisation).where(Organisation.name == PROVINCE))
            if org is None:
                return None
            _, token = issue_enrolment_token(
                session,
                org,
                expires_at=now + TOKEN_LIFETIME,
                max_uses=1,
                group_ids=[],
                timezone=DEMO_TIMEZONE,
                name=DEMO_SCREEN,
                now=now,
                created_by_id=None,
            )
            return token
    finally:
        engine.dispose()


def start_demo_player(
    settings: Settings, base_url: str, echo: Callable[[str], None]
) -> subprocess.Popen[bytes] | None:
    """Start the demo's screen player against `base_url`; the caller terminates it.

    None (and a line through `echo`) when there is no player to start: `signage-player` is
    not installed beside the server, or the demo's organisations are missing.
    """
    command = player_command()
    if command is None:
        echo("demo screen: signage-player is not installed here; no screen started")
        return None
    data_dir = settings.instance_path / "player"
    args = [str(command), "--server", base_url, "--data-dir", str(data_dir)]
    env = dict(os.environ)
    if not (data_dir / "device.json").exists():  # paired by an earlier run: no token needed
        token = demo_enrolment_token(settings, clock_from_settings(settings).now())
        if token is None:
            echo("demo screen: the demo organisations are missing; no screen started")
            return None
        # In the environment, not on the command line, where `ps` would show it to anyone.
        env["SIGNAGE_PLAYER_ENROL_TOKEN"] = token
    display = "window" if has_display() else "headless"
    args += ["--name", DEMO_SCREEN, "--display", display]
    # The player logs to <data dir>/logs itself; the demo's console stays the server's.
    process = subprocess.Popen(  # noqa: S603 - our own command, no shell
        args,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    where = "in a window" if display == "window" else f"headless ({data_dir / 'frames'})"
    echo(f"demo screen: signage-player (pid {process.pid}) {where}")
    return process
