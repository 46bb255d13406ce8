"""The demo: a province with cities and units, an admin, groups and screens, and the
Cybersecurity Week campaign published onto the current week, on SQLite and local media."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import clock
from server.accounts.models import Organisation, Role, User
from server.accounts.organisations import by_name, create_organisation
from server.accounts.users import add_user
from server.auth.actors import actor_by_email
from server.campaigns.files.check import check_campaign, require_bound
from server.campaigns.files.service import apply_checked
from server.config import Settings
from server.db import Database, make_engine
from server.migrations import upgrade
from server.screens.models import Group, Screen
from server.storage import make_store

DEMO_ADMIN = "admin@example.org"
PROVINCE = "Fujian Provincial Cyberspace Office"
TREE = {
    PROVINCE: None,
    "Fuzhou City": PROVINCE,
    "Xiamen City": PROVINCE,
    "Fuzhou No. 1 Middle School": "Fuzhou City",
    "Xiamen Bank Branches": "Xiamen City",
}
# group name -> the organisation it belongs to
GROUPS = {"campus": "Fuzhou No. 1 Middle School", "bank-branches": "Xiamen Bank Branches"}
# screen name -> (organisation, groups, width, height, location)
SCREENS = {
    "School gate": ("Fuzhou No. 1 Middle School", ["campus"], 1920, 1080, "Main gate"),
    "Teaching building lobby": ("Fuzhou No. 1 Middle School", ["campus"], 1080, 1920, "Lobby"),
    "Bank hall": ("Xiamen Bank Branches", ["bank-branches"], 1920, 1080, "Siming branch hall"),
    "Metro concourse": ("Fuzhou City", [], 1920, 1080, "Dongjiekou station"),
}
CAMPAIGN_FILE = Path(__file__).resolve().parents[2] / "playlists" / "cyber-week-2022.yaml"
CAMPAIGN_TZ = ZoneInfo("Asia/Shanghai")
CAMPAIGN_START = date(2022, 9, 5)  # the opening day, a Monday


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


def seed(database: Database, settings: Settings, now: datetime) -> str:
    """Create the demo organisations and admin if missing; return the admin's password."""
    password = demo_password(settings.instance_path)
    with database.session() as session:
        for name, parent in TREE.items():
            if session.scalar(select(Organisation.id).where(Organisation.name == name)) is None:
                create_organisation(
                    session, name, by_name(session, parent) if parent else None, now
                )
                session.flush()
        if session.scalar(select(User.id).where(User.email == DEMO_ADMIN)) is None:
            add_user(
                session,
                DEMO_ADMIN,
                password,
                by_name(session, PROVINCE),
                Role.ADMIN,
                now,
                name="Demo admin",
            )
    return password


def week_start(today: date) -> date:
    """The Monday starting the demo week that holds `today`, so today's theme day shows.

    The week moves in whole weeks from 5 September 2022, keeping weekdays (and so the
    weekday rules) as written, and staying put for seven days: restarts change nothing.
    """
    return today - timedelta(days=(today - CAMPAIGN_START).days % 7)


def seed_fleet(session: Session, now: datetime) -> None:
    """The demo groups and screens, created once."""
    groups: dict[str, Group] = {}
    for name, org_name in GROUPS.items():
        org = by_name(session, org_name)
        group = session.scalar(
            select(Group).where(Group.organisation_id == org.id, Group.name == name)
        )
        if group is None:
            group = Group(organisation_id=org.id, name=name, created_at=now)
            session.add(group)
        groups[name] = group
    session.flush()
    for name, (org_name, group_names, width, height, location) in SCREENS.items():
        org = by_name(session, org_name)
        exists = session.scalar(
            select(Screen.id).where(Screen.organisation_id == org.id, Screen.name == name)
        )
        if exists is None:
            screen = Screen(
                organisation_id=org.id,
                name=name,
                timezone="Asia/Shanghai",
                width=width,
                height=height,
                location=location,
                tags=[],
                status={},
                created_at=now,
            )
            screen.groups = [groups[g] for g in group_names]
            session.add(screen)
    session.flush()


def seed_campaign(database: Database, settings: Settings, now: datetime) -> list[str]:
    """Apply and publish the demo campaign moved onto this week; what happened, as lines."""
    if not CAMPAIGN_FILE.is_file():
        return [f"no demo campaign at {CAMPAIGN_FILE}: skipped"]
    start = week_start(now.astimezone(CAMPAIGN_TZ).date())
    # A publish is announced a poll interval ahead so that playing screens switch together.
    # The demo publishes before its player exists, so one second ahead is enough, and the
    # demo screen shows today's theme from its first poll instead of an idle minute.
    seeding = settings.model_copy(update={"poll_interval_s": 1, "publish_margin_s": 0})
    with database.session() as session:
        checked = check_campaign(session, CAMPAIGN_FILE, org_name=PROVINCE, start_on=start)
        bound = require_bound(checked, str(CAMPAIGN_FILE))
        actor = actor_by_email(session, DEMO_ADMIN)
        return apply_checked(
            session, make_store(settings), seeding, bound, now, actor, publish=True
        )


def set_up(settings: Settings, echo: Callable[[str], None]) -> str:
    """Migrate, seed and publish the demo (idempotent); return the admin's password."""
    engine = make_engine(settings)
    upgrade(engine)
    database = Database(engine)
    try:
        now = clock.from_settings(settings).now()
        password = seed(database, settings, now)
        with database.session() as session:
            seed_fleet(session, now)
        for line in seed_campaign(database, settings, now):
            echo(line)
    finally:
        engine.dispose()
    return password
