"""The `signage` command on a real instance folder (SQLite), its clock standing at T0.

Test modules import the `signage` fixture (and `instance`, which it builds on) from here.

`run` goes through click's runner on `server.__main__.cli`; `run_process` runs the
installed `signage` entry point in a subprocess, as an operator's shell does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session

from server.__main__ import cli
from server.clock import write_clock_file
from server.db import make_engine
from tests.conftest import T0
from tests.server.campaigns.conftest import Instance, instance

VENV_BIN = Path(sys.executable).parent


@dataclass
class Cli:
    """An instance with the World (Province ▸ City ▸ School, Other), groups and screens."""

    instance: Instance
    clock_file: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "SIGNAGE_DATABASE_URL": "",
            "SIGNAGE_SECRET_KEY": "",
            "SIGNAGE_MEDIA_PATH": "",
            "SIGNAGE_CLOCK_FILE": str(self.clock_file),
        }

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(
            cli, ["--instance", str(self.instance.folder), *args], obj={}, env=self.env
        )

    def json(self, *args: str) -> Any:
        """Run with --json; it must succeed and print JSON alone on stdout."""
        result = self.run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def run_process(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **self.env, "SIGNAGE_INSTANCE_PATH": str(self.instance.folder)}
        return subprocess.run(  # noqa: S603 - the project's own entry point
            [str(VENV_BIN / "signage"), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    def process_json(self, *args: str) -> Any:
        done = self.run_process(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def session(self) -> Session:
        return Session(make_engine(self.instance.settings))


@pytest.fixture
def signage(instance: Instance) -> Iterator[Cli]:  # noqa: F811 - the imported fixture
    clock_file = instance.folder / "clock"
    write_clock_file(clock_file, T0)
    yield Cli(instance, clock_file)


__all__ = ["Cli", "instance"]
