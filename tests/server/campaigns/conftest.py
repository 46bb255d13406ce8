"""Campaign tests: a real instance folder (SQLite) driven through the `signage` command."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.__main__ import cli
from server.accounts.models import Organisation
from server.auth.models import AuditEvent
from server.campaigns.models import Publication
from server.config import Settings, load_settings
from server.db import Base, make_engine
from server.screens.models import Group, Screen
from tests.conftest import T0
from tests.factories import World

REPO = Path(__file__).resolve().parents[3]
DEMO_FILE = REPO / "playlists" / "cyber-week-2022.yaml"


@dataclass
class Instance:
    """An instance folder with a migrated database: the World, groups and three screens."""

    folder: Path
    settings: Settings

    def run(self, *args: str) -> Result:
        runner = CliRunner()
        env = {"SIGNAGE_DATABASE_URL": "", "SIGNAGE_SECRET_KEY": "", "SIGNAGE_MEDIA_PATH": ""}
        return runner.invoke(cli, ["--instance", str(self.folder), *args], obj={}, env=env)

    def session(self) -> Session:
        return Session(make_engine(self.settings))

    def counts(self) -> dict[str, int]:
        """Rows per table: what "changes nothing" is checked against."""
        engine = make_engine(self.settings)
        try:
            with Session(engine) as s:
                return {
                    t.name: s.scalar(select(func.count()).select_from(t)) or 0
                    for t in Base.metadata.sorted_tables
                }
        finally:
            engine.dispose()


def build_fleet(session: Session, world: World) -> None:
    campus = Group(organisation_id=world.school.id, name="campus", created_at=T0)
    bank = Group(organisation_id=world.city.id, name="bank-branches", created_at=T0)
    session.add_all([campus, bank])
    session.flush()
    for name, org, groups in (
        ("Lobby", world.city, []),
        ("Gate", world.school, [campus]),
        ("Bank hall", world.city, [bank]),
    ):
        screen = Screen(
            organisation_id=org.id,
            name=name,
            timezone="Asia/Shanghai",
            tags=[],
            status={},
            created_at=T0,
        )
        screen.groups = groups
        session.add(screen)
    session.commit()


@pytest.fixture
def instance(tmp_path: Path, sqlite_template: Path) -> Iterator[Instance]:
    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copyfile(sqlite_template, folder / "signage.db")
    settings = load_settings({"instance_path": folder, "secret_key": "test"}, environ={})
    engine = make_engine(settings)
    with Session(engine) as session:
        world = World.build(session, T0)
        build_fleet(session, world)
    engine.dispose()
    yield Instance(folder, settings)


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


__all__ = ["DEMO_FILE", "AuditEvent", "Organisation", "Publication", "count"]
