"""The demo: a province with cities and units, an admin, on SQLite and local media, then the server."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from server.accounts import create_user
from server.clock import SystemClock
from server.config import Settings
from server.db import Database, make_engine
from server.migrations import upgrade
from server.models import Organisation, Role, User
from server.orgs import by_name, create_organisation

DEMO_ADMIN = "admin@example.org"
PROVINCE = "Fujian Provincial Cyberspace Office"
TREE = {
    PROVINCE: None,
    "Fuzhou City": PROVINCE,
    "Xiamen City": PROVINCE,
    "Fuzhou No. 1 Middle School": "Fuzhou City",
    "Xiamen Bank Branches": "Xiamen City",
}


def demo_password(instance: Path) -> str:
    """The demo admin's password, made once and kept (owner-only) in the instance folder."""
    path = instance / "demo-admin-password"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    instance.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(password + "\n")
    return password


def seed(database: Database, settings: Settings) -> str:
    """Create the demo organisations and admin if missing; return the admin's password."""
    now = SystemClock().now()
    password = demo_password(settings.instance_path)
    with database.session() as session:
        for name, parent in TREE.items():
            if session.scalar(select(Organisation.id).where(Organisation.name == name)) is None:
                create_organisation(session, name, by_name(session, parent) if parent else None, now)
                session.flush()
        if session.scalar(select(User.id).where(User.email == DEMO_ADMIN)) is None:
            create_user(session, DEMO_ADMIN, password, by_name(session, PROVINCE), Role.ADMIN, now, name="Demo admin")
    return password


def run_demo(settings: Settings, *, host: str, port: int, serve: bool, echo: Callable[[str], None]) -> None:
    engine = make_engine(settings)
    upgrade(engine)
    database = Database(engine)
    password = seed(database, settings)
    engine.dispose()
    url = f"http://{host}:{port}"
    echo(f"Signage Scheduler demo at {url}")
    echo(f"  log in as {DEMO_ADMIN} with password {password}")
    echo(f"  API: {url}/api/v1/openapi.json · data in {settings.instance_path.resolve()}")
    if serve:
        from server.app import create_app

        create_app(settings).run(host=host, port=port, threaded=True, use_reloader=False)
