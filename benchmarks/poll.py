"""Poll throughput: authenticated 304 polls against a bare Flask 304, in one run.

Both apps run under gunicorn with the same settings (gthread workers), on the same
machine, loaded by `wrk` (C, epoll; a Lua script rotates through the screens' tokens and
ETags) — a load generator that stays well below the server's CPU use, so the server is
what is measured. The poll is the real thing: device token lookup in the database,
heartbeat recorded (and flushed every few seconds by the worker's thread), fingerprint
and ETag, server time stamped, 304. The baseline is a Flask view that compares
If-None-Match with a constant and answers 304.

Reported: requests/s, p50 and p99 latency of each, and the ratio poll/baseline (goal
≥ 0.6). Rounds alternate baseline and poll; each app's best round is reported (other
load on a shared machine only ever slows a round down), every round is printed. The
server's CPU time per request (all gunicorn processes, from /proc) is reported too: on a
shared machine it is steadier than requests/s, which other load can move.

Run: .venv/bin/python benchmarks/poll.py [--screens 500] [--duration 10] [--connections 16]
         [--workers 2] [--threads 4] [--rounds 3]
Needs wrk (Debian: apt-get install -y wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from flask import Flask, Response, request

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks.seeding
MANIFEST = "/api/v1/player/manifest"
BARE_ETAG = "0123456789abcdef0123456789abcdef"  # same length as a manifest ETag


def bare_app() -> Flask:
    """The baseline: the least a Flask app can do to answer a conditional GET with 304."""
    app = Flask("bare")

    @app.get(MANIFEST)
    def manifest() -> Response:
        headers = {"ETag": f'"{BARE_ETAG}"'}
        if request.if_none_match.contains(BARE_ETAG):
            return Response(status=304, headers=headers)
        return Response(b"{}", mimetype="application/json", headers=headers)

    return app


LUA = r"""
local tokens = {%(tokens)s}
local etags = {%(etags)s}
local index = 0
statuses = {}
local threads = {}

setup = function(thread)
  table.insert(threads, thread)
end

init = function(args)
  index = math.random(#tokens)
end

request = function()
  index = (index %% #tokens) + 1
  return wrk.format("GET", "%(path)s", {
    ["Authorization"] = "Bearer " .. tokens[index],
    ["If-None-Match"] = etags[index],
  })
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local ok, other = 0, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      if status == 304 then ok = ok + count else other = other + count end
    end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%%d duration_us=%%d p50_us=%%d p99_us=%%d"
    .. " not_modified=%%d other=%%d errors=%%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    ok, other, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    not_modified: int
    other: int
    errors: int
    cpu_us: float = 0.0  # server CPU time (all gunicorn processes) per request


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (gunicorn's workers), Linux."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gunicorn:
    """A gunicorn process serving `app_spec` with the benchmark's settings."""

    def __init__(self, app_spec: str, args: argparse.Namespace, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            str(VENV_BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            "gthread",
            "--keep-alive",
            "30",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--chdir",
            str(HERE),
            app_spec,
        ]
        self.log = log.open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.url + MANIFEST, timeout=1)
                return
            except (requests.ConnectionError, requests.Timeout):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start: see {log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        self.log.close()


def wrk(url: str, script: Path, args: argparse.Namespace, duration: int) -> Run:
    out = subprocess.run(
        [
            "wrk",
            "--threads",
            str(args.wrk_threads),
            "--connections",
            str(args.connections),
            "--duration",
            f"{duration}s",
            "--timeout",
            "5s",
            "--script",
            str(script),
            url + MANIFEST,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"RESULT (.*)", out)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    values = {k: int(v) for k, v in (kv.split("=") for kv in found.group(1).split())}
    return Run(
        rps=values["requests"] / (values["duration_us"] / 1e6),
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        requests=values["requests"],
        not_modified=values["not_modified"],
        other=values["other"],
        errors=values["errors"],
    )


def lua(path: Path, tokens: list[str], etags: list[str]) -> Path:
    quoted = ", ".join(f'"{t}"' for t in tokens)
    tags = ", ".join(f"'{e}'" for e in etags)
    path.write_text(LUA % {"tokens": quoted, "etags": tags, "path": MANIFEST})
    return path


def seed(env: dict[str, str], screens: int) -> list[str]:
    """A migrated database with a published campaign and `screens` paired screens."""
    from benchmarks.seeding import publish_posters
    from server.accounts.organisations import create_organisation
    from server.auth.actors import DEVICE_TOKEN_PREFIX, token_digest
    from server.config import load_settings
    from server.db import Database, make_engine
    from server.screens.models import Screen
    from server.storage import make_store

    subprocess.run([str(VENV_BIN / "signage"), "db", "upgrade"], env=env, check=True)
    settings = load_settings(environ=env)
    database = Database(make_engine(settings))
    now = datetime.now(UTC)
    tokens = [f"{DEVICE_TOKEN_PREFIX}bench-{i:06d}" for i in range(screens)]
    with database.session() as session:
        org = create_organisation(session, "Province", None, now)
        session.flush()
        import io

        from PIL import Image

        from server.assets.uploads import Author, MediaLimits, upload_image

        png = io.BytesIO()
        Image.new("RGB", (640, 360), "red").save(png, "PNG")
        png.seek(0)
        asset = upload_image(
            session, make_store(settings), org, png, name="poster.png", title="", now=now,
            limits=MediaLimits.from_settings(settings), author=Author(None, "benchmark"),
        ).asset
        publish_posters(
            session, settings, org.id, [asset], name="Week", duration_ms=10_000,
            dates=(date(2000, 1, 1), date(2099, 12, 31)), now=now - timedelta(hours=1),
        )  # fmt: skip
        for i, token in enumerate(tokens):
            session.add(
                Screen(
                    organisation_id=org.id,
                    name=f"screen {i}",
                    hardware_id=f"hw-{i}",
                    timezone="Asia/Shanghai",
                    device_token_hash=token_digest(token),
                    tags=[],
                    status={},
                    command_seq=0,
                    created_at=now,
                )
            )
    database.engine.dispose()
    return tokens


def best_run(runs: list[Run]) -> Run:
    # Other load on the machine only ever slows a round down: the best is the least disturbed.
    return max(runs, key=lambda r: r.rps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--screens", type=int, default=500)
    parser.add_argument("--duration", type=int, default=10, help="seconds per round")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/poll.py needs wrk (Debian: apt-get install -y wrk)")

    scratch = Path(tempfile.mkdtemp(prefix="signage-poll-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGE_")}
    env.update(
        {
            "SIGNAGE_INSTANCE_PATH": str(scratch),
            "SIGNAGE_SECRET_KEY": "bench",
            "SIGNAGE_LOG_LEVEL": "WARNING",
        }
    )
    tokens = seed(env, args.screens)

    server = Gunicorn("server.app:create_app()", args, env, scratch / "server.log")
    etags = []
    with requests.Session() as http:
        for token in tokens:
            r = http.get(server.url + MANIFEST, headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            etags.append(r.headers["ETag"])
    server.stop()
    poll_script = lua(scratch / "poll.lua", tokens, etags)
    bare_script = lua(scratch / "bare.lua", tokens, [f'"{BARE_ETAG}"'] * len(tokens))

    results: dict[str, list[Run]] = {"bare": [], "poll": []}
    specs = {
        "bare": ("poll:bare_app()", bare_script),
        "poll": ("server.app:create_app()", poll_script),
    }
    for _ in range(args.rounds):
        for name, (spec, script) in specs.items():
            server = Gunicorn(spec, args, env, scratch / f"{name}.log")
            try:
                wrk(server.url, script, args, args.warmup)
                cpu = tree_cpu_seconds(server.process.pid)
                run = wrk(server.url, script, args, args.duration)
                cpu = tree_cpu_seconds(server.process.pid) - cpu
                results[name].append(replace(run, cpu_us=cpu / run.requests * 1e6))
            finally:
                server.stop()
            last = results[name][-1]
            print(
                f"  round {len(results[name])} {name:4}  {last.rps:7.0f} req/s  "
                f"{last.cpu_us:6.0f} µs server CPU per request",
                flush=True,
            )

    bare, poll = best_run(results["bare"]), best_run(results["poll"])
    print(
        f"poll benchmark: {args.screens} screens, gunicorn gthread {args.workers} workers x "
        f"{args.threads} threads, wrk {args.wrk_threads} thread / {args.connections} "
        f"connections, best of {args.rounds} rounds of {args.duration:g} s, "
        f"{os.cpu_count()} CPUs, SQLite"
    )
    head = f"{'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU µs/req':>11} {'304s':>9} {'other':>6}"
    print(f"  {'':32} {head}")
    for label, run in (("baseline: bare Flask 304", bare), ("authenticated 304 poll", poll)):
        print(
            f"  {label:32} {run.rps:9.0f} {run.p50_ms:8.2f} {run.p99_ms:8.2f} "
            f"{run.cpu_us:11.0f} {run.not_modified:9d} {run.other + run.errors:6d}"
        )
    print(f"  ratio (poll / baseline), req/s   {poll.rps / bare.rps:9.2f}   (goal >= 0.6)")
    print(f"  ratio by server CPU per request  {bare.cpu_us / poll.cpu_us:9.2f}")
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
