"""The database: engine and sessions (one per request, closed on teardown; the same factory for
jobs and commands), and the declarative base every domain's models derive from.

SQLite has one writer at a time. A transaction that began by reading and then wants to
write fails at once ("database is locked") if another connection committed in between:
its snapshot is stale, and SQLite's busy timeout does not help it. So on SQLite every
transaction that may write begins with `BEGIN IMMEDIATE`, which takes the write lock up
front and waits for it (up to the busy timeout) instead: requests that change data
(every method but GET, HEAD and OPTIONS), the CLI and the job runner. Reading requests
begin deferred and never block a writer (WAL); the few reads that write (a variant
rendered on first use) end their read, render, then write first, which also waits.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    Enum,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from server.config import Settings

EXTENSION_KEY = "signage.db"
BUSY_TIMEOUT_S = 30  # how long a writer waits for SQLite's write lock before giving up
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BEGIN = "signage_sqlite_begin"  # execution option: how a SQLite transaction begins
# PostgreSQL's contention errors: serialization failure, deadlock, lock or statement timeout.
_BUSY_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})
# Ids are 32-bit integers on every backend: a larger one in a URL or body is a 404 or a 422,
# never an overflow.
MAX_ID = 2**31 - 1


def make_engine(settings: Settings, **kwargs: Any) -> Engine:
    """An engine for the configured URL; SQLite gets WAL, a busy timeout and foreign keys."""
    url = settings.database_url
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            settings.instance_path.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT; take it over.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **kwargs)


def writing(engine: Engine) -> Engine:
    """The engine for transactions that may write: on SQLite they begin IMMEDIATE (they
    queue for the write lock up front); elsewhere the same engine."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"})


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql(conn.get_execution_options().get(_BEGIN, "BEGIN"))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def is_busy(exc: OperationalError) -> bool:
    """Whether a database error is contention that passes (try again shortly) rather than
    a database that is down or unreachable."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _BUSY_SQLSTATES
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message


class Database:
    """What the app holds: the engine and its session factories.

    `sessions` begin their transactions deferred (reads, and code that writes first);
    `writers` begin theirs ready to write (see the module's docstring).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.writers = sessionmaker(writing(engine), expire_on_commit=False)

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A session outside a request (CLI, jobs): committed on success, rolled back on error.

        Code inside may commit on its own too (slow media work ends its transaction first,
        see `server.assets.renders.release`), as a request's session may. Its transactions
        begin ready to write unless `write` is false (see the module's docstring).
        """
        factory = self.writers if write else self.sessions
        with factory() as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            session.commit()


def init_app(app: Flask, settings: Settings) -> Database:
    database = Database(make_engine(settings))
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(_close_session)
    return database


def get_db(app: Flask | None = None) -> Database:
    db: Database = (app or current_app).extensions[EXTENSION_KEY]
    return db


def get_session() -> Session:
    """The request's session, opened on first use; ready to write unless the method is safe."""
    if "db_session" not in g:
        database = get_db()
        reading = has_request_context() and request.method in SAFE_METHODS
        g.db_session = database.sessions() if reading else database.writers()
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()


# Models: the declarative base, a naming convention (stable constraint names for migrations)
# and the column types every domain uses.

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite drops the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def enum_column(kind: type[enum.Enum], length: int) -> Enum:
    """A string column holding the enum's values (not its names), alike on every database."""
    return Enum(
        kind,
        native_enum=False,
        length=length,
        values_callable=lambda members: [str(m.value) for m in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}
