"""A private PostgreSQL cluster for one test, so that a test may stop it: initdb into a
temporary folder, pg_ctl start and stop, on a free port and a private socket folder.

The machine's shared PostgreSQL is never touched. Skips when the server binaries are not
installed (Debian: postgresql). initdb refuses root, so as root the cluster runs as the
`postgres` user, in a folder that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.conftest import free_port


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@dataclass
class PrivatePostgres:
    bin: Path
    data: Path
    port: int
    user: str | None  # run as this user (root cannot run PostgreSQL)

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/signage"

    def init(self) -> None:
        done = self._run(
            "initdb",
            "-D",
            str(self.data / "db"),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        assert done.returncode == 0, done.stderr
        self.start()
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE signage")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=50"
        )
        done = self._run(
            "pg_ctl",
            "-D",
            str(self.data / "db"),
            "-o",
            options,
            "-l",
            str(self.data / "server.log"),
            "-w",
            "start",
        )
        assert done.returncode == 0, done.stderr + self.log()

    def stop(self, mode: str = "fast") -> None:
        done = self._run("pg_ctl", "-D", str(self.data / "db"), "-m", mode, "-w", "stop")
        assert done.returncode == 0, done.stderr + self.log()

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data / "db"), "status").returncode == 0

    def log(self) -> str:
        path = self.data / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture
def private_postgres() -> object:
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
        user = "postgres"
    data = Path(tempfile.mkdtemp(prefix="signage-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    cluster = PrivatePostgres(bin_dir, data, free_port(), user)
    try:
        cluster.init()
        yield cluster
    finally:
        if cluster.running():
            cluster.stop("immediate")
        shutil.rmtree(data, ignore_errors=True)
