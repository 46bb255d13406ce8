"""Real server processes for integration tests: `start_server(...)` runs gunicorn (or
`signage serve`) on a free port with its own instance folder, waits for /healthz, and
returns a handle to talk to it, move its clock, reach its database, stop and restart it.

    def test_something(start_server):
        server = start_server(settings={"poll_interval_s": 10})
        admin = server.seed_admin()                      # an organisation and an API token
        server.set_clock(datetime(2026, 1, 5, 9, tzinfo=UTC))  # the server's clock stands here
        requests.get(server.url("/api/v1/player/manifest"), ...)
        with server.session() as session: ...            # its database, from the test
        server.restart()                                 # same port, same instance folder

Settings reach the process as SIGNAGE_* environment variables. The clock is a FileClock
(server/clock.py; tests and demos only): `set_clock` writes an instant or an offset to
the file the server reads, so no test sleeps to let time pass. PostgreSQL: pass
`database_url=fresh_pg_database()` (skipped unless SIGNAGE_TEST_DATABASE_URL is set).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session

from server.clock import write_clock_file
from server.config import Settings, env_name, load_settings

VENV_BIN = Path(sys.executable).parent
PG_ENV = "SIGNAGE_TEST_DATABASE_URL"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Admin:
    """An organisation and an admin of it, with an API token for operator routes."""

    organisation_id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class ServerProcess:
    """One server process and everything needed to drive it from a test."""

    instance: Path
    port: int
    env: dict[str, str]
    kind: str = "gunicorn"  # or "serve" (the development server)
    workers: int = 1
    threads: int = 4
    extra_args: tuple[str, ...] = ()  # more gunicorn options (e.g. a -c config module)
    process: subprocess.Popen[bytes] | None = None
    _log: Any = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def clock_file(self) -> Path:
        return Path(self.env[env_name("clock_file")])

    @property
    def log_path(self) -> Path:
        return self.instance / "server.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def settings(self) -> Settings:
        """The settings the process runs with (read the same way it reads them)."""
        return load_settings(environ=self.env)

    def command(self) -> list[str]:
        if self.kind == "serve":
            return [str(VENV_BIN / "signage"), "serve", "--port", str(self.port)]
        return [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--graceful-timeout",
            "10",
            "--log-level",
            "warning",
            *self.extra_args,
            "server.app:create_app()",
        ]

    def start(self) -> ServerProcess:
        """Migrate the database, start the process, wait until /healthz answers."""
        subprocess.run(
            [str(VENV_BIN / "signage"), "db", "upgrade"],
            env=self.env,
            check=True,
            capture_output=True,
        )
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command(), env=self.env, stdout=self._log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url("/healthz"), timeout=1).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server did not answer /healthz:\n{self.log()}")
            time.sleep(0.05)  # waiting for readiness, not for time to pass

    def stop(self) -> int | None:
        """Stop gracefully (SIGTERM, then SIGKILL after a grace period); the exit code."""
        code = None
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM if self.kind == "gunicorn" else signal.SIGINT)
            try:
                code = self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
        elif self.process is not None:
            code = self.process.returncode
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def kill(self) -> None:
        """SIGKILL the master and its workers at once, as a power cut would."""
        if self.process is not None and self.process.poll() is None:
            master = self.process.pid
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            for pid in [master, *map(int, children)]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.wait(STOP_TIMEOUT_S)
        self.stop()  # only closes the log now

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def set_clock(self, value: datetime | timedelta | None) -> None:
        """Stand the server's clock at an instant, run it at an offset, or (None) free it."""
        if value is None:
            self.clock_file.unlink(missing_ok=True)
        else:
            write_clock_file(self.clock_file, value)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session on the server's database; committed at the end unless it raised."""
        from server.db import Database, make_engine

        database = Database(make_engine(self.settings()))
        try:
            # Ready to write, as every writer on SQLite is (server/db.py): a deferred
            # transaction that read before the server committed a heartbeat could not write.
            with database.writers() as session:
                yield session
                session.commit()
        finally:
            database.engine.dispose()

    def store(self) -> Any:
        from server.storage import make_store

        return make_store(self.settings())

    def seed_admin(
        self, organisation: str = "Province", email: str = "admin@example.test"
    ) -> Admin:
        """Create an organisation (or reuse it) and an admin with an API token."""
        from sqlalchemy import select

        from server.accounts.models import Organisation, Role, User
        from server.accounts.organisations import create_organisation
        from server.accounts.users import add_user
        from server.auth.actors import create_api_token

        now = datetime.now().astimezone()
        with self.session() as session:
            org = session.scalar(select(Organisation).where(Organisation.name == organisation))
            if org is None:
                org = create_organisation(session, organisation, None, now)
                session.flush()
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                user = add_user(session, email, secrets.token_urlsafe(12), org, Role.ADMIN, now)
                session.flush()
            _, token = create_api_token(session, user, "integration", now)
            return Admin(org.id, email, token)


StartServer = Callable[..., ServerProcess]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """A factory of server processes; every one started is stopped after the test."""
    started: list[ServerProcess] = []

    def start(
        name: str = "server",
        *,
        database_url: str | None = None,
        settings: Mapping[str, object] | None = None,
        kind: str = "gunicorn",
        workers: int = 1,
        threads: int = 4,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> ServerProcess:
        instance = tmp_path / name
        instance.mkdir(parents=True, exist_ok=True)
        process_env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGE_")}
        process_env.update(env or {})
        process_env.update(
            {
                env_name("instance_path"): str(instance),
                env_name("secret_key"): "integration-" + name,
                env_name("clock_file"): str(instance / "clock"),
                env_name("log_level"): "WARNING",
            }
        )
        if database_url:
            process_env[env_name("database_url")] = database_url
        for key, value in (settings or {}).items():
            process_env[env_name(key)] = str(value)
        server = ServerProcess(
            instance,
            port or free_port(),
            process_env,
            kind=kind,
            workers=workers,
            threads=threads,
            extra_args=extra_args,
        )
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def fresh_pg_database() -> Iterator[Callable[[], str]]:
    """A factory of empty PostgreSQL databases (dropped after the test)."""
    server_url = os.environ.get(PG_ENV)
    if not server_url:
        pytest.skip(f"needs {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    import psycopg
    from sqlalchemy import make_url

    admin = make_url(server_url)
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    made: list[str] = []

    def create() -> str:
        name = f"signage_it_{os.getpid()}_{secrets.token_hex(3)}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return admin.set(database=name).render_as_string(hide_password=False)

    yield create
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
