"""A fleet of N screens against one node and two, measured from outside in one run.

N screens are seeded straight into the database (default 100,000 on PostgreSQL, 20,000 on
SQLite) under a province ▸ cities ▸ units tree with groups, so a published campaign of
entries aimed at cities and groups gives many target sets. `wrk` loads the real server
under gunicorn (by default the README's production line, 4 workers × 8 threads), one
connection per wrk thread; a Lua script gives each connection its share of the screens,
sends each screen's own device token and ETag, keeps the ETag a 200 brings, honours
`Retry-After` (with player jitter) and paces itself on the server's clock
(`Signage-Server-Time`) so the fleet polls at its rate, N per poll interval, catching up
after a stall as players on their own timers would (plain wrk has no rate option; `wrk2`
is not in Debian). Phases, each with its own wrk run:

  prime     every screen fetches its first manifest, unpaced (the cold start)
  baseline  a bare Flask 304 on the same gunicorn settings, at the fleet's rate
  (a) poll  sustained 304 polling at the fleet's rate: p50, p99, errors, server CPU per
            request, database statements per second
  (b) herd  a publish: time until every screen has fetched the new manifest, the full
            manifest rate, p99 during the herd
  (c) restart  every node restarted (its listening socket kept, as systemd socket
            activation does): the reconnection storm, the time until every screen has been
            answered again, and any answer other than a 304/200 or a 503 with Retry-After
  (d) scale one node against two, unpaced, each node pinned to its own core

Every phase reports the CPU the load generator took and how busy the whole machine was, so
figures from a small shared machine can be read honestly. Database statements: on
PostgreSQL, transactions from pg_stat_database (the poll's one read runs in autocommit, so
one transaction is one statement); on SQLite, every statement the server's connections run,
counted by a trace callback that the benchmark's gunicorn config installs.

Run: .venv/bin/python benchmarks/fleet.py [--database postgresql|sqlite] [--screens N]
         [--duration 3m] [--pg-url postgresql://postgres@127.0.0.1:5432/postgres]
Needs wrk (Debian: apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
MANIFEST = "/api/v1/player/manifest"
BARE_ETAG = '"0123456789abcdef0123456789abcdef"'
CITIES, GROUPS, SCREENS_PER_UNIT = 12, 24, 200
GOAL_P99_MS = 50.0
RUNS = itertools.count(1)  # numbers each wrk run's files in the scratch folder
INSTALL_WRK = "benchmarks/fleet.py needs wrk (Debian: apt-get install -y wrk)"


def bare_app() -> Flask:
    """The baseline: the least a Flask app can do to answer a poll with 304, plus the
    server-time header the load script paces itself by."""
    app = Flask("bare")

    @app.get(MANIFEST)
    def manifest() -> Response:
        headers = {"ETag": BARE_ETAG, "Signage-Server-Time": str(int(time.time() * 1000))}
        if request.if_none_match.contains(BARE_ETAG.strip('"')):
            return Response(status=304, headers=headers)
        return Response(b"{}", mimetype="application/json", headers=headers)

    return app


LUA = r"""
local path = "%(path)s"
local nthreads = %(threads)d
local interval_ms = %(interval_ms).4f
local switch = "%(switch)s"
local mode = "%(mode)s"
local marker = "%(marker)s"
local threads = {}
local made = 0

setup = function(thread)
  thread:set("id", made)
  made = made + 1
  table.insert(threads, thread)
end

local function lines(file)
  local out = {}
  for line in io.lines(file) do out[#out + 1] = line end
  return out
end

init = function(args)
  math.randomseed(id * 7919 + 1)
  -- each thread reads only its own share (screens id+1, id+1+nthreads, ...)
  tok, tag = lines("%(share)s-tokens-" .. id), lines("%(share)s-etags-" .. id)
  idx = {}
  for j = 1, #tok do
    idx[j] = id + 1 + (j - 1) * nthreads
    tag[j] = tag[j] or "-"
  end
  n = #idx
  pos, cur, sent, now, t0 = 0, 1, 0, 0, nil
  retries = {}
  s304, s200, s503, s503_bare, other = 0, 0, 0, 0, 0
  fresh, first200, last200 = 0, 0, 0
  got200, answered = {}, {}
  current, current_at, marked = 0, 0, false
  restart_at = 0
end

request = function()
  local k
  if #retries > 0 and retries[1][1] <= now then
    k = table.remove(retries, 1)[2]
  else
    pos = (pos %% n) + 1
    k = pos
  end
  cur = k
  local h = {["Authorization"] = "Bearer " .. tok[k]}
  if tag[k] ~= "-" then h["If-None-Match"] = tag[k] end
  return wrk.format("GET", path, h)
end

delay = function()
  sent = sent + 1
  if t0 == nil or interval_ms <= 0 then return 0 end
  local d = t0 + sent * interval_ms - now
  if d < 0 then return 0 end
  return d
end

local function retry_later(k, seconds)
  -- a player comes back after Retry-After plus up to a second of its own jitter
  local due = now + seconds * 1000 + math.random(0, 1000)
  local at = #retries + 1
  for j = 1, #retries do
    if retries[j][1] > due then at = j; break end
  end
  table.insert(retries, at, {due, k})
end

response = function(status, headers, body)
  local t = tonumber(headers["Signage-Server-Time"])
  if t then now = t end
  if t0 == nil then t0 = now; sent = 0 end
  local k = cur
  if switch ~= "" and restart_at == 0 then
    local f = io.open(switch, "r")  -- the instant the benchmark restarted the node, once there
    if f then restart_at = tonumber(f:read("*l")) or 0; f:close() end
  end
  if status == 304 then
    s304 = s304 + 1
  elseif status == 200 then
    s200 = s200 + 1
    tag[k] = headers["ETag"] or tag[k]
    if not got200[k] then
      got200[k] = true
      fresh = fresh + 1
      if first200 == 0 then first200 = now end
      last200 = now
    end
  elseif status == 503 then
    local wait = tonumber(headers["Retry-After"])
    if wait then s503 = s503 + 1; retry_later(k, wait) else s503_bare = s503_bare + 1 end
  else
    other = other + 1
  end
  if restart_at > 0 and now >= restart_at and (status == 304 or status == 200)
      and not answered[k] then
    answered[k] = true
    current = current + 1
    current_at = now
  end
  if not marked and ((mode == "fresh" and fresh == n) or (mode == "current" and current == n)) then
    local f = io.open(marker .. "/" .. id, "w")
    f:write(tostring(now))
    f:close()
    marked = true
  end
end

done = function(summary, latency, requests)
  local all = {}
  local r = {s304 = 0, s200 = 0, s503 = 0, s503_bare = 0, other = 0, fresh = 0, current = 0,
             first200 = 0, last200 = 0, current_at = 0}
  for _, thread in ipairs(threads) do
    local ids, tags = thread:get("idx"), thread:get("tag")
    for j = 1, #ids do all[ids[j]] = tags[j] end
    for _, key in ipairs({"s304", "s200", "s503", "s503_bare", "other", "fresh", "current"}) do
      r[key] = r[key] + thread:get(key)
    end
    local f = thread:get("first200")
    if f > 0 and (r.first200 == 0 or f < r.first200) then r.first200 = f end
    r.last200 = math.max(r.last200, thread:get("last200"))
    r.current_at = math.max(r.current_at, thread:get("current_at"))
  end
  local out = io.open("%(etags_out)s", "w")
  for i = 1, #all do out:write(all[i] or "-", "\n") end
  out:close()
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%%d duration_us=%%d p50_us=%%d p99_us=%%d max_us=%%d connect=%%d read=%%d"
    .. " write=%%d timeout=%%d s304=%%d s200=%%d s503=%%d s503_bare=%%d other=%%d fresh=%%d"
    .. " current=%%d first200=%%d last200=%%d current_at=%%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, r.s304, r.s200, r.s503, r.s503_bare,
    r.other, r.fresh, r.current, r.first200, r.last200, r.current_at))
end
"""

# The benchmark's gunicorn config. Each worker says when it is ready to serve (it loads the
# app after the fork), so a restart can wait for the new processes before stopping the old.
# SQLite has no server to ask how many statements it ran: with count_statements, each
# worker counts them with a trace callback and writes the count to a file.
GUNICORN_CONF = r"""
import os, sqlite3, threading, time

FOLDER = %(folder)r
COUNT_STATEMENTS = %(count)r


def post_worker_init(worker):
    if COUNT_STATEMENTS:
        _count_statements()
    open(os.path.join(FOLDER, "ready-%%d" %% os.getpid()), "w").close()


def _count_statements():
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    count = [0]

    def traced(_sql):
        count[0] += 1

    def on_connect(dbapi_connection, _record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(traced)

    event.listen(Pool, "connect", on_connect)
    out = os.path.join(FOLDER, "statements-%%d" %% os.getpid())

    def dump():
        while True:
            time.sleep(0.5)
            with open(out + ".tmp", "w") as f:
                f.write(str(count[0]))
            os.replace(out + ".tmp", out)

    threading.Thread(target=dump, daemon=True).start()
"""


@dataclass
class Wrk:
    """One wrk run's results (counts from the Lua script, latency from wrk)."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    transport_errors: dict[str, int]
    s304: int
    s200: int
    s503: int  # with Retry-After
    s503_bare: int
    other: int
    fresh: int
    current: int
    first200: int  # server time, ms
    last200: int
    current_at: int
    cpu_s: float = 0.0  # the load generator's own CPU time

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self) -> int:
        return sum(self.transport_errors.values()) + self.s503_bare + self.other


@dataclass
class Phase:
    name: str
    wrk: Wrk
    server_cpu_s: float
    db_statements: int | None
    machine_busy: float  # share of all CPUs busy, everyone on the machine included
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.wrk.requests * 1e6 if self.wrk.requests else 0.0


def parse_duration(text: str) -> float:
    found = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m|h)?", text.strip())
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30s, 3m or 90")
    return float(found.group(1)) * {"s": 1, "m": 60, "h": 3600}[found.group(2) or "s"]


def proc_cpu_seconds(match: Callable[[int, list[str], str], bool]) -> float:
    """User + system CPU time of every process `match(pid, stat_fields, comm)` picks."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw.rsplit(")", 1)[1].split()
        if match(int(entry.name), fields, comm):
            total += int(fields[11]) + int(fields[12])
    return total / tick


def tree_cpu_seconds(pids: Sequence[int]) -> float:
    """CPU time of gunicorn masters and their workers."""
    wanted = set(pids)
    return proc_cpu_seconds(lambda pid, f, _c: pid in wanted or int(f[1]) in wanted)


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Node:
    """One server node: gunicorn on a listening socket the benchmark holds, so a restart
    (stop, start) queues new connections in the backlog instead of refusing them."""

    def __init__(self, spec: str, env: dict[str, str], args: argparse.Namespace, log: Path):
        self.spec, self.env, self.args, self.log_path = spec, env, args, log
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.set_inheritable(True)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.cpus: set[int] | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.cpu_before_restarts = 0.0
        self.retired: list[subprocess.Popen[bytes]] = []

    def start(self) -> Node:
        fd = self.sock.fileno()
        command = [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"fd://{fd}",
            "--worker-class",
            "gthread",
            "--workers",
            str(self.args.workers),
            "--threads",
            str(self.args.threads),
            "--keep-alive",
            "75",
            "--graceful-timeout",
            "20",
            "--log-level",
            "warning",
            "--chdir",
            str(HERE),
            "--config",
            str(self.env["FLEET_GUNICORN_CONF"]),
            self.spec,
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, pass_fds=(fd,)
            )
        if self.cpus is not None:
            os.sched_setaffinity(self.process.pid, self.cpus)
        # Ready when every worker of this master has loaded the app (the old processes of a
        # restart still answer on the same socket, so a request would prove nothing).
        ready = Path(self.env["FLEET_GUNICORN_CONF"]).parent
        deadline = time.monotonic() + 120
        while True:
            workers = set(self.pids_with_workers()[1:])
            done = {int(p.name.split("-")[1]) for p in ready.glob("ready-*")}
            if len(workers & done) >= self.args.workers:
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: see {self.log_path}")
            time.sleep(0.05)
        if self.cpus is not None:  # the workers forked before the affinity was set
            for pid in self.pids_with_workers():
                os.sched_setaffinity(pid, self.cpus)
        return self

    def pids_with_workers(self) -> list[int]:
        assert self.process is not None
        master = self.process.pid
        found = [master]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                        found.append(int(entry.name))
                except OSError:
                    pass
        return found

    def cpu(self) -> float:
        live = tree_cpu_seconds([self.process.pid]) if self.process else 0.0
        return self.cpu_before_restarts + live

    def restart(self) -> float:
        """Start new processes on the same socket, then stop the old ones (gracefully, in the
        background): gunicorn's own zero-downtime upgrade. Every connection is dropped and
        every cache starts cold; no connection is refused. Returns the instant (ms) the old
        processes were told to stop."""
        old = self.process
        assert old is not None
        self.start()
        self.cpu_before_restarts += tree_cpu_seconds([old.pid])
        switched = now_ms()
        old.send_signal(signal.SIGTERM)
        self.retired.append(old)
        return switched

    def stop(self) -> None:
        if self.process is None:
            return
        self.cpu_before_restarts = self.cpu()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        self.process = None

    def close(self) -> None:
        self.stop()
        for old in self.retired:
            old.wait(60)
        self.sock.close()


class Database:
    """The benchmark's own database: a SQLite file, or a fresh PostgreSQL database."""

    def __init__(self, kind: str, pg_url: str, scratch: Path) -> None:
        self.kind = kind
        self.name = f"signage_fleet_{os.getpid()}"
        if kind == "sqlite":
            self.url = f"sqlite:///{scratch / 'signage.db'}"
            self.admin_dsn = ""
            return
        import psycopg
        from sqlalchemy import make_url

        admin = make_url(pg_url)
        self.admin_dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)

    def statements(self, scratch: Path) -> int:
        """A counter of statements run so far (see the module's docstring)."""
        if self.kind == "sqlite":
            return sum(int(p.read_text() or 0) for p in scratch.glob("statements-*"))
        import psycopg

        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                (self.name,),
            ).fetchone()
        return int(row[0]) if row else 0

    def drop(self) -> None:
        if self.kind == "postgresql":
            import psycopg

            with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def seed(env: dict[str, str], screens: int) -> tuple[list[str], Callable[[], None]]:
    """A migrated database: organisations, groups, `screens` screens with device tokens,
    one published campaign, and a second one ready to publish (returned as a callable)."""
    import io

    from PIL import Image
    from sqlalchemy import insert

    from server.accounts.models import Organisation
    from server.accounts.organisations import create_organisation
    from server.assets.uploads import Author, MediaLimits, upload_image
    from server.auth.actors import DEVICE_TOKEN_PREFIX, token_digest
    from server.campaigns import workflow
    from server.campaigns.models import Campaign, CampaignStatus, ScheduleEntry
    from server.campaigns.snapshot import normal_targets
    from server.config import load_settings
    from server.db import Database as Db
    from server.db import make_engine
    from server.playlists.models import Playlist, PlaylistItem
    from server.screens.models import Group, GroupMember, Screen
    from server.storage import make_store

    subprocess.run([str(VENV_BIN / "signage"), "db", "upgrade"], env=env, check=True)
    settings = load_settings(environ=env)
    database = Db(make_engine(settings))
    now = datetime.now(UTC)
    units_count = max(1, screens // SCREENS_PER_UNIT)
    tokens = [f"{DEVICE_TOKEN_PREFIX}fleet-{i:07d}" for i in range(screens)]
    with database.session() as session:
        province = create_organisation(session, "Province", None, now)
        session.flush()
        cities: list[Organisation] = []
        for c in range(CITIES):
            cities.append(create_organisation(session, f"City {c}", province, now))
            session.flush()
        units = []
        for u in range(units_count):
            units.append(create_organisation(session, f"Unit {u}", cities[u % CITIES], now))
        session.flush()
        groups = [
            Group(organisation_id=province.id, name=f"group-{g}", created_at=now)
            for g in range(GROUPS)
        ]
        session.add_all(groups)
        session.flush()
        png = io.BytesIO()
        Image.new("RGB", (640, 360), "red").save(png, "PNG")
        png.seek(0)
        asset = upload_image(
            session,
            make_store(settings),
            province,
            png,
            name="poster.png",
            title="",
            now=now,
            limits=MediaLimits.from_settings(settings),
            author=Author(None, "benchmark"),
        ).asset

        def campaign(name: str) -> Campaign:
            row = Campaign(
                organisation_id=province.id,
                name=name,
                description="",
                timezone="Asia/Shanghai",
                start_date=date(2000, 1, 1),
                end_date=date(2099, 12, 31),
                targets={"everyone": True},
                status=CampaignStatus.DRAFT,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            for e, targets in enumerate(
                [{"everyone": True}]
                + [{"organisations": [city.id]} for city in cities]
                + [{"groups": [group.id]} for group in groups]
            ):
                playlist = Playlist(
                    organisation_id=province.id,
                    campaign_id=row.id,
                    name=f"{name} {e}",
                    description="",
                    is_default=False,
                    created_at=now,
                    updated_at=now,
                )
                playlist.items = [PlaylistItem(position=0, asset=asset, duration_ms=10_000)]
                session.add(playlist)
                session.flush()
                row.entries.append(
                    ScheduleEntry(
                        position=e, playlist=playlist, targets=normal_targets(targets), priority=e
                    )
                )
            return row

        week = campaign("Week")
        workflow.publish(session, week, workflow.SYSTEM, now - timedelta(hours=1), settings)
        campaign("Finance Day")
    unit_ids = [u.id for u in units]
    group_ids = [g.id for g in groups]
    with database.engine.begin() as conn:
        for start in range(0, screens, 5000):
            batch = range(start, min(screens, start + 5000))
            conn.execute(
                insert(Screen),
                [
                    {
                        "organisation_id": unit_ids[i // SCREENS_PER_UNIT % units_count],
                        "name": f"screen {i}",
                        "hardware_id": f"hw-{i}",
                        "timezone": "Asia/Shanghai",
                        "width": 1920 if i % 3 else 1080,
                        "height": 1080 if i % 3 else 1920,
                        "device_token_hash": token_digest(tokens[i]),
                        "tags": [],
                        "status": {},
                        "command_seq": 0,
                        "created_at": now,
                    }
                    for i in batch
                ],
            )
        ids = [row[0] for row in conn.exec_driver_sql("SELECT id FROM screens ORDER BY id")]
        for start in range(0, screens, 5000):
            conn.execute(
                insert(GroupMember),
                [
                    {"group_id": group_ids[(i * 7) % GROUPS], "screen_id": ids[i]}
                    for i in range(start, min(screens, start + 5000))
                ],
            )
        if database.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")

    def publish_second() -> None:
        from sqlalchemy import select

        with database.session() as session:
            second = session.scalar(select(Campaign).where(Campaign.name == "Finance Day"))
            assert second is not None
            workflow.publish(session, second, workflow.SYSTEM, datetime.now(UTC), settings)
        database.engine.dispose()

    database.engine.dispose()
    return tokens, publish_second


class Load:
    """Writes the Lua script for a phase and runs wrk with it."""

    def __init__(self, scratch: Path, tokens: Path, etags: Path, screens: int) -> None:
        self.scratch, self.tokens, self.etags, self.screens = scratch, tokens, etags, screens

    @contextmanager
    def running(
        self,
        url: str,
        *,
        connections: int,
        rate: float,
        seconds: float,
        mode: str = "",
        switch: Path | None = None,
        etags_in: Path | None = None,
    ) -> Iterator[Callable[[float], Wrk]]:
        """Start wrk; the caller acts, then calls `finish(deadline_s)`, which waits for every
        wrk thread to reach the phase's mark (or the deadline, or the duration) and stops it."""
        run = next(RUNS)
        marker = self.scratch / f"marks-{run}"
        marker.mkdir()
        connections = max(1, min(connections, self.screens))
        # Each wrk thread's share of the screens in files of its own: reading and splitting
        # the whole list in every thread's init costs minutes for 100,000 screens.
        share = self.scratch / f"share-{run}"
        tokens = self.tokens.read_text().splitlines()
        etags = (etags_in or self.etags).read_text().splitlines()
        for t in range(connections):
            Path(f"{share}-tokens-{t}").write_text("\n".join(tokens[t::connections]) + "\n")
            Path(f"{share}-etags-{t}").write_text("\n".join(etags[t::connections]) + "\n")
        script = self.scratch / f"phase-{run}.lua"
        etags_out = self.scratch / f"etags-{run}.txt"
        script.write_text(
            LUA
            % {
                "path": MANIFEST,
                "threads": connections,
                "interval_ms": 1000 * connections / rate if rate > 0 else 0,
                "switch": switch or "",
                "mode": mode,
                "marker": marker,
                "share": share,
                "etags_out": etags_out,
            }
        )
        command = [
            "wrk",
            "--threads",
            str(connections),
            "--connections",
            str(connections),
            "--duration",
            f"{max(1, int(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "--script",
            str(script),
            url + MANIFEST,
        ]
        out = self.scratch / f"wrk-{run}.out"
        with out.open("wb") as sink:
            process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        started = time.monotonic()

        def finish(deadline_s: float) -> Wrk:
            end = started + deadline_s
            # os.wait4, not Popen.poll: it gives the load generator's own CPU time.
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            while pid == 0 and time.monotonic() < end:
                if mode and len(list(marker.iterdir())) >= connections:
                    break
                time.sleep(0.1)
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid == 0:
                process.send_signal(signal.SIGINT)  # wrk stops and reports what it has
                pid, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            text = out.read_text(errors="replace")
            found = re.search(r"RESULT (.*)", text)
            if found is None:
                raise RuntimeError(f"wrk printed no result:\n{text}")
            v = {k: int(x) for k, x in (kv.split("=") for kv in found.group(1).split())}
            if mode or etags_in is None:
                shutil.copyfile(etags_out, self.etags)
            return Wrk(
                requests=v["requests"],
                seconds=v["duration_us"] / 1e6,
                p50_ms=v["p50_us"] / 1000,
                p99_ms=v["p99_us"] / 1000,
                max_ms=v["max_us"] / 1000,
                transport_errors={k: v[k] for k in ("connect", "read", "write", "timeout")},
                s304=v["s304"],
                s200=v["s200"],
                s503=v["s503"],
                s503_bare=v["s503_bare"],
                other=v["other"],
                fresh=v["fresh"],
                current=v["current"],
                first200=v["first200"],
                last200=v["last200"],
                current_at=v["current_at"],
                cpu_s=usage.ru_utime + usage.ru_stime,
            )

        try:
            yield finish
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


@contextmanager
def measured(
    name: str, nodes: Sequence[Node], database: Database, scratch: Path
) -> Iterator[dict[str, Any]]:
    """Server CPU, database statements and machine load around a phase; the caller puts
    its Wrk under "wrk" (and anything else under "extra") in the yielded dict."""
    box: dict[str, Any] = {"extra": {}}
    cpu0 = sum(n.cpu() for n in nodes)
    statements0 = database.statements(scratch)
    busy0, total0 = machine_busy()
    yield box
    busy1, total1 = machine_busy()
    statements = database.statements(scratch) - statements0
    cpu = sum(n.cpu() for n in nodes) - cpu0
    box["phase"] = Phase(
        name, box["wrk"], cpu, statements, (busy1 - busy0) / max(1, total1 - total0), box["extra"]
    )


def now_ms() -> int:
    return int(time.time() * 1000)


def line(phase: Phase, *, paced: bool) -> str:
    w = phase.wrk
    cores = (w.cpu_s / w.seconds) if w.seconds else 0
    server_cores = phase.server_cpu_s / w.seconds if w.seconds else 0
    stmts = (
        f"{phase.db_statements / w.seconds:8.0f}" if phase.db_statements is not None else "       -"
    )
    return (
        f"  {phase.name:26} {w.rate:8.0f} {w.p50_ms:7.2f} {w.p99_ms:8.2f} {w.max_ms:8.0f} "
        f"{w.s304:8d} {w.s200:7d} {w.s503:6d} {w.errors:6d} {phase.cpu_us_per_request:7.0f} "
        f"{server_cores:6.2f} {cores:5.2f} {stmts} {phase.machine_busy * 100:5.0f}%"
        + ("" if paced else "  (unpaced)")
    )


HEAD = (
    f"  {'phase':26} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>8} {'max ms':>8} {'304':>8} "
    f"{'200':>7} {'503+RA':>6} {'errors':>6} {'µs CPU':>7} {'srv c':>6} {'wrk c':>5} "
    f"{'stmt/s':>8} {'busy':>6}"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "SIGNAGE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL server; the benchmark creates and drops its own database there",
    )
    parser.add_argument("--screens", type=int, help="default 100000 (PostgreSQL), 20000 (SQLite)")
    parser.add_argument("--duration", type=parse_duration, default=180.0, help="phase (a)")
    parser.add_argument("--poll-interval", type=int, default=30)
    parser.add_argument("--margin", type=int, default=30, help="publish margin, seconds")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16, help="one wrk thread each")
    parser.add_argument("--phases", default="abcd", help="which of a, b, c, d to run")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print(INSTALL_WRK, file=sys.stderr)
        return 2
    screens = args.screens or (100_000 if args.database == "postgresql" else 20_000)
    poll = args.poll_interval
    rate = screens / poll
    short = min(args.duration, 30.0)

    scratch = Path(tempfile.mkdtemp(prefix="signage-fleet-bench-"))
    database = Database(args.database, args.pg_url, scratch)
    conf = scratch / "gunicorn_conf.py"
    conf.write_text(GUNICORN_CONF % {"folder": str(scratch), "count": args.database == "sqlite"})
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGE_")}
    env.update(
        {
            "SIGNAGE_INSTANCE_PATH": str(scratch),
            "SIGNAGE_DATABASE_URL": database.url,
            "SIGNAGE_SECRET_KEY": "bench",
            "SIGNAGE_LOG_LEVEL": "WARNING",
            "SIGNAGE_POLL_INTERVAL_S": str(poll),
            "SIGNAGE_PUBLISH_MARGIN_S": str(args.margin),
            "FLEET_GUNICORN_CONF": str(conf),
        }
    )
    nodes: list[Node] = []
    phases: list[Phase] = []
    report: list[str] = []

    def say(text: str) -> None:
        print(text, flush=True)
        report.append(text)

    try:
        t = time.monotonic()
        tokens, publish = seed(env, screens)
        tokens_file, etags_file = scratch / "tokens.txt", scratch / "etags.txt"
        tokens_file.write_text("\n".join(tokens) + "\n")
        etags_file.write_text("-\n" * screens)
        bare_etags = scratch / "bare-etags.txt"
        bare_etags.write_text(f"{BARE_ETAG}\n" * screens)
        say(f"seeded {screens} screens in {time.monotonic() - t:.0f} s ({args.database})")
        load = Load(scratch, tokens_file, etags_file, screens)

        node = Node("server.app:create_app()", env, args, scratch / "node-a.log").start()
        nodes.append(node)
        # Prime: every screen's first manifest, as fast as the node gives them.
        with measured("prime: first manifests", [node], database, scratch) as box:
            with load.running(
                node.url, connections=args.connections, rate=0, seconds=3600, mode="fresh"
            ) as finish:
                box["wrk"] = finish(1800)
        prime = box["phase"]
        phases.append(prime)
        if prime.wrk.fresh < screens:
            say(f"prime: only {prime.wrk.fresh} of {screens} screens got a manifest")

        bare = Node("fleet:bare_app()", env, args, scratch / "bare.log")
        nodes.append(bare)
        bare.start()
        with measured("baseline: bare Flask 304", [bare], database, scratch) as box:
            with load.running(
                bare.url,
                connections=args.connections,
                rate=rate,
                seconds=short,
                etags_in=bare_etags,
            ) as finish:
                box["wrk"] = finish(short + 30)
        bare.close()
        nodes.remove(bare)
        phases.append(box["phase"])

        if "a" in args.phases:
            with measured("(a) 304 polls at N/30 s", [node], database, scratch) as box:
                with load.running(
                    node.url, connections=args.connections, rate=rate, seconds=args.duration
                ) as finish:
                    box["wrk"] = finish(args.duration + 30)
            phases.append(box["phase"])

        if "b" in args.phases:
            budget = poll + args.margin
            with measured("(b) publish: the herd", [node], database, scratch) as box:
                with load.running(
                    node.url,
                    connections=args.connections,
                    rate=rate,
                    seconds=3 * budget + 30,
                    mode="fresh",
                ) as finish:
                    time.sleep(3)  # polls settle to 304s first
                    published = now_ms()
                    publish()
                    box["wrk"] = finish(3 * budget + 30)
                w = box["wrk"]
                box["extra"].update(
                    published=published,
                    reached=w.fresh,
                    to_all_s=(w.last200 - published) / 1000 if w.fresh >= screens else None,
                    full_rate=w.fresh / max(0.001, (w.last200 - w.first200) / 1000),
                    budget_s=budget,
                )
            phases.append(box["phase"])

        if "c" in args.phases:
            with measured("(c) restart every node", [node], database, scratch) as box:
                switch = scratch / "switch"
                with load.running(
                    node.url,
                    connections=args.connections,
                    rate=rate,
                    seconds=3 * poll + 300,
                    mode="current",
                    switch=switch,
                ) as finish:
                    time.sleep(3)
                    began = time.monotonic()
                    switched = node.restart()
                    (scratch / "switch.tmp").write_text(f"{switched}\n")
                    os.replace(scratch / "switch.tmp", switch)
                    box["extra"]["start_s"] = time.monotonic() - began
                    box["wrk"] = finish(3 * poll + 300)
                w = box["wrk"]
                box["extra"].update(
                    switched=switched,
                    current=w.current,
                    to_current_s=(w.current_at - switched) / 1000 if w.current >= screens else None,
                )
            phases.append(box["phase"])

        scale: list[Phase] = []
        if "d" in args.phases and (os.cpu_count() or 1) >= 2:
            node.stop()
            node.cpus = {0}
            node.start()
            with measured("(d) one node, one core", [node], database, scratch) as box:
                with load.running(
                    node.url, connections=args.connections, rate=0, seconds=short
                ) as finish:
                    box["wrk"] = finish(short + 30)
            scale.append(box["phase"])
            second = Node("server.app:create_app()", env, args, scratch / "node-b.log")
            second.cpus = {1}
            second.start()
            nodes.append(second)
            halves = [scratch / "tokens-a.txt", scratch / "tokens-b.txt"]
            etag_halves = [scratch / "etags-a.txt", scratch / "etags-b.txt"]
            all_etags = etags_file.read_text().splitlines()
            for h in (0, 1):
                halves[h].write_text("\n".join(tokens[h::2]) + "\n")
                etag_halves[h].write_text("\n".join(all_etags[h::2]) + "\n")
            with measured("(d) two nodes, a core each", [node, second], database, scratch) as box:
                loads = [
                    Load(scratch, halves[h], etag_halves[h], len(tokens[h::2])) for h in (0, 1)
                ]
                with (
                    loads[0].running(
                        node.url, connections=args.connections // 2, rate=0, seconds=short
                    ) as finish_a,
                    loads[1].running(
                        second.url, connections=args.connections // 2, rate=0, seconds=short
                    ) as finish_b,
                ):
                    a, b = finish_a(short + 30), finish_b(short + 30)
                box["wrk"] = combine(a, b)
            scale.append(box["phase"])
            phases.extend(scale)

        say("")
        say(
            f"fleet benchmark: {screens} screens in {units_count(screens)} units of "
            f"{CITIES} cities, {GROUPS} groups; {args.database}; poll every {poll} s "
            f"(N/{poll} = {rate:.0f} polls/s); gunicorn gthread {args.workers} workers x "
            f"{args.threads} threads per node; wrk {args.connections} connections; "
            f"{os.cpu_count()} CPUs; phase (a) {args.duration:g} s"
        )
        say(HEAD)
        for phase in phases:
            say(line(phase, paced=not phase.name.startswith(("prime", "(d)"))))
        say("  (µs CPU: server CPU per request; srv c / wrk c: cores the server / wrk used;")
        say("   stmt/s: database statements per second; busy: the whole machine, all users)")
        say("")
        say(verdicts(phases, screens, rate, poll, args.margin))
    finally:
        for n in nodes:
            n.close()
        database.drop()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


def units_count(screens: int) -> int:
    return max(1, screens // SCREENS_PER_UNIT)


def combine(a: Wrk, b: Wrk) -> Wrk:
    """Two simultaneous wrk runs as one: rates add, latency is the worse of the two."""
    seconds = max(a.seconds, b.seconds)
    return Wrk(
        requests=a.requests + b.requests,
        seconds=seconds,
        p50_ms=max(a.p50_ms, b.p50_ms),
        p99_ms=max(a.p99_ms, b.p99_ms),
        max_ms=max(a.max_ms, b.max_ms),
        transport_errors={
            k: a.transport_errors[k] + b.transport_errors[k] for k in a.transport_errors
        },
        s304=a.s304 + b.s304,
        s200=a.s200 + b.s200,
        s503=a.s503 + b.s503,
        s503_bare=a.s503_bare + b.s503_bare,
        other=a.other + b.other,
        fresh=a.fresh + b.fresh,
        current=a.current + b.current,
        first200=min(a.first200, b.first200),
        last200=max(a.last200, b.last200),
        current_at=max(a.current_at, b.current_at),
        cpu_s=a.cpu_s + b.cpu_s,
    )


def verdicts(phases: Sequence[Phase], screens: int, rate: float, poll: int, margin: int) -> str:
    """Each goal, met or missed and by how much."""
    by = {p.name[:3]: p for p in phases}
    out = []
    prime = phases[0]
    out.append(
        f"prime: {prime.wrk.fresh} first manifests at "
        f"{prime.wrk.fresh / max(0.001, (prime.wrk.last200 - prime.wrk.first200) / 1000):.0f}/s "
        f"(cold caches, unpaced)"
    )
    bare = next(p for p in phases if p.name.startswith("baseline"))
    if "(a)" in by:
        a = by["(a)"]
        verdict = (
            "met"
            if a.wrk.p99_ms < GOAL_P99_MS
            else f"MISSED by {a.wrk.p99_ms - GOAL_P99_MS:.1f} ms"
        )
        out.append(
            f"(a) {a.wrk.rate:.0f} polls/s of the fleet's {rate:.0f}/s "
            f"({a.wrk.rate / rate:.0%}); p99 {a.wrk.p99_ms:.1f} ms against the goal of "
            f"{GOAL_P99_MS:.0f} ms: {verdict}; {a.wrk.errors} errors, "
            f"{a.wrk.s200} full manifests; server CPU per 304 {a.cpu_us_per_request:.0f} µs "
            f"= {a.cpu_us_per_request / max(1.0, bare.cpu_us_per_request):.2f}x the bare "
            f"Flask 304's {bare.cpu_us_per_request:.0f} µs; one core answers "
            f"{1e6 / max(1.0, a.cpu_us_per_request):.0f} polls/s"
        )
    if "(b)" in by:
        b = by["(b)"]
        x = b.extra
        budget = x["budget_s"]
        if x["to_all_s"] is None:
            reach = f"reached {x['reached']} of {screens} screens: MISSED"
        else:
            late = x["to_all_s"] - budget
            reach = f"all {screens} in {x['to_all_s']:.1f} s, " + (
                f"within the {budget} s budget: met" if late <= 0 else f"MISSED by {late:.1f} s"
            )
        out.append(
            f"(b) publish: {reach} (poll {poll} s + margin {margin} s); full manifests at "
            f"{x['full_rate']:.0f}/s; p99 during the herd {b.wrk.p99_ms:.1f} ms; "
            f"{b.wrk.errors} errors"
        )
    if "(c)" in by:
        c = by["(c)"]
        x = c.extra
        again = (
            f"every screen answered again {x['to_current_s']:.1f} s after the old processes "
            "were stopped"
            if x["to_current_s"] is not None
            else f"only {x['current']} of {screens} screens answered again"
        )
        w = c.wrk
        # A kept connection the old processes closed under a request is a wrk read error;
        # the player resends such a request at once on a new connection (player/transport.py).
        dropped = w.transport_errors["read"]
        bad = w.errors - dropped
        out.append(
            f"(c) restart: the new processes took {x['start_s']:.1f} s to start beside the old "
            f"ones; {again}; {w.s503} answers 503 with Retry-After; {dropped} requests on "
            "kept connections the old processes closed (resent at once by a player); "
            + (
                "no other error: met"
                if bad == 0
                else f"{bad} other errors: MISSED (connect {w.transport_errors['connect']}, "
                f"timeout {w.transport_errors['timeout']}, write "
                f"{w.transport_errors['write']}, {w.s503_bare} 503 without Retry-After, "
                f"{w.other} other statuses)"
            )
            + f"; p99 {w.p99_ms:.1f} ms, max {w.max_ms:.0f} ms"
        )
    scale = [p for p in phases if p.name.startswith("(d)")]
    if len(scale) == 2:
        one, two = scale
        out.append(
            f"(d) one node on one core {one.wrk.rate:.0f} polls/s, two nodes on a core each "
            f"{two.wrk.rate:.0f} polls/s: {two.wrk.rate / max(1.0, one.wrk.rate):.2f}x "
            f"(the load generator and the database share the same two cores)"
        )
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
