"""Soak: a fleet of simulated players and a few real ones against a real server for a while,
and what it did to memory and errors.

    .venv/bin/python benchmarks/soak.py                   # 30 minutes, 500 + 2 players
    .venv/bin/python benchmarks/soak.py --minutes 5 --json soak.json

A real server (gunicorn, `--workers` × `--threads`, on SQLite in a temporary instance
folder, or `--database-url`) publishes a playlist of small posters to everyone. The
simulated players are lightweight pollers in this process speaking the real protocol, each
with its own Ed25519 device key: `hello` with an enrolment token and a proof, then a
manifest poll every poll interval (with jitter) carrying its ETag and a `Signage-Status`
header, the media of each new manifest downloaded and checked, and a proof-of-play batch
every few polls; like the real player, a request on a kept connection that the server
closed as it was used is sent once more on a new one (counted as `reconnect`). The real
players are `signage-player --display headless` processes on the same server.

Every `--sample-every` seconds the resident memory (VmRSS, /proc) of each server worker and
each real player is sampled. Reported, as a table and as JSON: each one's RSS at start and
end, its peak, and its growth per hour (least-squares slope over the samples after the
first fifth of the run, the warm-up); the requests by kind and answer; and the errors, which
should be none: simulated requests answered other than as the protocol says, lines logged
at ERROR or with a traceback by the server or a real player, and real players that died.
The exit status is 1 if there was any error.

Not run in CI (it takes half an hour); tests/benchmarks/test_soak.py runs it for seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import heapq
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from player.clock import iso_ms  # noqa: E402
from player.keys import DeviceKey  # noqa: E402
from player.status import Status, encode_status  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SIZE = (640, 360)
POSTER_MS = 10_000
PLAYS_EVERY = 5  # polls between proof-of-play uploads
TIMEOUT_S = 30.0
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def poster(i: int) -> bytes:
    """A small poster with a little detail, so renderings are not trivial."""
    image = Image.effect_mandelbrot(SIZE, (-2.0 + i * 0.2, -1.0, 1.0, 1.0), 40).convert("RGB")
    ImageDraw.Draw(image).text((20, 20), f"Soak {i}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process (VmRSS), or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def slope_per_hour(samples: Sequence[tuple[float, int]]) -> float | None:
    """Least-squares slope of (seconds, bytes) in MiB per hour; None under 3 samples."""
    if len(samples) < 3:
        return None
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_b = sum(b for _, b in samples) / n
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (b - mean_b) for t, b in samples)
    return cov / var * 3600 / MIB


# -- the server ---------------------------------------------------------------------------


@dataclass
class Server:
    instance: Path
    env: dict[str, str]
    workers: int
    threads: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.instance / "server.log"

    def start(self) -> None:
        subprocess.run(  # noqa: S603 - our own command
            [str(VENV_BIN / "signage"), "db", "upgrade"],
            env=self.env,
            check=True,
            capture_output=True,
        )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}"]
                + ["--workers", str(self.workers), "--threads", str(self.threads)]
                + ["--log-level", "warning", "server.app:create_app()"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.RequestException):  # not listening yet
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)

    def workers_pids(self) -> list[int]:
        return children(self.process.pid) if self.process is not None else []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def seed(server: Server, posters: int, uses: int) -> tuple[str, datetime]:
    """A published playlist of `posters` posters for everyone, and an enrolment token for
    `uses` screens; the token and the instant the playlist takes effect."""
    from benchmarks.seeding import publish_posters
    from server.accounts.organisations import create_organisation
    from server.assets.uploads import Author, MediaLimits, upload_image
    from server.config import load_settings
    from server.db import Database, make_engine
    from server.screens.enrolment import issue_enrolment_token
    from server.storage import make_store

    settings = load_settings(environ=server.env)
    engine = make_engine(settings)
    now = datetime.now(UTC)
    try:
        with Database(engine).session() as session:
            org = create_organisation(session, "Soak", None, now)
            session.flush()
            store = make_store(settings)
            limits = MediaLimits.from_settings(settings)
            assets = [
                upload_image(
                    session,
                    store,
                    org,
                    io.BytesIO(poster(i)),
                    name=f"{i}.png",
                    title="",
                    now=now,
                    limits=limits,
                    author=Author(None, "soak"),
                ).asset
                for i in range(posters)
            ]
            publication = publish_posters(
                session, settings, org.id, assets, name="Soak", duration_ms=POSTER_MS,
                dates=(now.date() - timedelta(days=1), now.date() + timedelta(days=7)), now=now,
            )  # fmt: skip
            _, token = issue_enrolment_token(
                session,
                org,
                expires_at=now + timedelta(days=2),
                max_uses=uses,
                group_ids=[],
                timezone="Asia/Shanghai",
                name="soak",
                now=now,
                created_by_id=None,
            )
            effective = publication.effective_at.astimezone(UTC)
    finally:
        engine.dispose()
    return token, effective


# -- simulated players --------------------------------------------------------------------


@dataclass
class Tally:
    """Requests by kind and answer, and the errors, shared by the fleet's threads."""

    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, kind: str) -> None:
        with self.lock:
            self.requests[kind] += 1

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.examples) < 20:
                self.examples.append(f"{kind}: {detail}"[:300])


class SimulatedPlayer:
    """One screen: a device key, a token once enrolled, the manifest's ETag and media."""

    def __init__(self, index: int, server: str, token: str, tally: Tally) -> None:
        self.hardware_id = f"soak-sim-{index:05d}"
        self.server = server
        self.enrol_token = token
        self.tally = tally
        self.key = DeviceKey.generate()
        self.device_token: str | None = None
        self.etag: str | None = None
        self.have: set[str] = set()
        self.on_screen: str | None = None
        self.playlist: str | None = None
        self.plays: list[dict[str, str]] = []
        self.polls = 0
        self.started = time.monotonic()
        self.last_poll = datetime.now(UTC)

    def step(self, http: requests.Session) -> None:
        try:
            if self.device_token is None:
                self._hello(http)
            else:
                self._poll(http)
        except requests.RequestException as exc:
            self.tally.error("transport", f"{self.hardware_id}: {exc}")

    def _send(self, http: requests.Session, method: str, url: str, **kw: Any) -> requests.Response:
        """One request; as the real player does, once more on a new connection if the server
        closed the kept one as it was used (a keep-alive race, not an error)."""
        try:
            return http.request(method, self.server + url, timeout=TIMEOUT_S, **kw)
        except requests.ConnectionError:
            http.close()
            self.tally.count("reconnect")
            return http.request(method, self.server + url, timeout=TIMEOUT_S, **kw)

    def _hello(self, http: requests.Session) -> None:
        body = {
            "hardware_id": self.hardware_id,
            "player_version": "soak",
            "width": SIZE[0],
            "height": SIZE[1],
            "enrol_token": self.enrol_token,
            "proof": self.key.prove(self.hardware_id, datetime.now(UTC)),
        }
        r = self._send(http, "POST", "/api/v1/player/hello", json=body)
        self.tally.count(f"hello {r.status_code}")
        if r.status_code != 201:
            self.tally.error("hello", f"{r.status_code} {r.text[:200]}")
            return
        self.device_token = r.json()["device_token"]

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.device_token}"}

    def _poll(self, http: requests.Session) -> None:
        status = Status(
            manifest=self.etag,
            asset=self.on_screen,
            playlist=self.playlist,
            uptime_s=int(time.monotonic() - self.started),
            disk_free_bytes=10 * 1024**3,
            cache_shortage_bytes=0,
            dropped_events=0,
            player_version="soak",
        )
        headers = {**self._headers(), "Signage-Status": encode_status(status)[0]}
        if self.etag:
            headers["If-None-Match"] = self.etag
        now = datetime.now(UTC)
        r = self._send(http, "GET", "/api/v1/player/manifest", headers=headers)
        self.tally.count(f"manifest {r.status_code}")
        self.polls += 1
        if r.status_code == 200:
            self.etag = r.headers.get("ETag")
            self._fetch_media(http, r.json())
        elif r.status_code != 304:
            self.tally.error("manifest", f"{r.status_code} {r.text[:200]}")
        if self.on_screen is not None:
            self.plays.append(
                {
                    "id": str(uuid.uuid4()),
                    "asset": self.on_screen,
                    "playlist": self.playlist or "",
                    "start": iso_ms(self.last_poll),
                    "end": iso_ms(now),
                }
            )
        self.last_poll = now
        if self.polls % PLAYS_EVERY == 0 and self.plays:
            self._upload_plays(http)

    def _fetch_media(self, http: requests.Session, manifest: dict[str, Any]) -> None:
        for sha, ref in manifest.get("assets", {}).items():
            if sha in self.have:
                continue
            r = self._send(http, "GET", ref["url"], headers=self._headers())
            self.tally.count(f"media {r.status_code}")
            if r.status_code != 200 or hashlib.sha256(r.content).hexdigest() != sha:
                self.tally.error("media", f"{r.status_code} for {sha[:12]}")
                continue
            self.have.add(sha)
        for segment in manifest.get("segments") or []:
            if segment.get("items"):
                self.on_screen = str(segment["items"][0]["asset"])
                self.playlist = segment.get("playlist")
                break

    def _upload_plays(self, http: requests.Session) -> None:
        r = self._send(
            http,
            "POST",
            "/api/v1/player/plays",
            json={"events": self.plays},
            headers=self._headers(),
        )
        self.tally.count(f"plays {r.status_code}")
        if r.status_code != 200:
            self.tally.error("plays", f"{r.status_code} {r.text[:200]}")
            return
        self.plays = []


class Fleet:
    """The simulated players, each stepped once per poll interval (with ±10 % jitter) by a
    small pool of threads, each thread with its own keep-alive connection."""

    def __init__(self, players: list[SimulatedPlayer], interval: float, threads: int) -> None:
        self.players = players
        self.interval = interval
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fleet")
        self.local = threading.local()
        self.rng = random.Random(1)  # noqa: S311 - jitter, not secrecy
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="fleet-clock", daemon=True)
        self.late = 0

    def _session(self) -> requests.Session:
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        return session

    def _run(self) -> None:
        start = time.monotonic()
        due = [(start + self.rng.uniform(0, self.interval), i) for i in range(len(self.players))]
        heapq.heapify(due)
        busy: set[int] = set()
        done = threading.Lock()

        def step(i: int) -> None:
            try:
                self.players[i].step(self._session())
            finally:
                with done:
                    busy.discard(i)

        while not self.stopping.is_set():
            at, i = due[0]
            wait = at - time.monotonic()
            if wait > 0:
                self.stopping.wait(min(wait, 0.5))
                continue
            heapq.heappop(due)
            with done:
                if i in busy:  # its last step has not finished: the server is that slow
                    self.late += 1
                else:
                    busy.add(i)
                    self.pool.submit(step, i)
            jitter = self.rng.uniform(0.9, 1.1)
            heapq.heappush(due, (max(at + self.interval * jitter, time.monotonic()), i))

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)
        self.pool.shutdown(wait=True, cancel_futures=True)


# -- real players -------------------------------------------------------------------------


@dataclass
class RealPlayer:
    name: str
    data_dir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.name}.log"

    def start(self, server: str, token: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGE_")}
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                [
                    str(VENV_BIN / "signage-player"),
                    "--server",
                    server,
                    "--data-dir",
                    str(self.data_dir),
                    "--display",
                    "headless",
                    "--size",
                    f"{SIZE[0]}x{SIZE[1]}",
                    "--hardware-id",
                    f"soak-{self.name}",
                    "--name",
                    self.name,
                    "--enrol-token",
                    token,
                    "--screenshot-interval",
                    "0",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def changes(self) -> int:
        path = self.data_dir / "changes.log"
        return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def logged_errors(path: Path) -> list[str]:
    """Lines logged at ERROR or CRITICAL, and tracebacks."""
    if not path.exists():
        return []
    keys = (" ERROR ", " CRITICAL ", "Traceback", "[ERROR]", "[CRITICAL]")
    text = path.read_text(errors="replace")
    return [line for line in text.splitlines() if any(k in line for k in keys)]


# -- the run ------------------------------------------------------------------------------


@dataclass
class Memory:
    """RSS samples of one process: (seconds since the run started, bytes)."""

    role: str
    pid: int
    samples: list[tuple[float, int]] = field(default_factory=list)

    def summary(self, warm_up_s: float) -> dict[str, Any]:
        after = [s for s in self.samples if s[0] >= warm_up_s]
        values = [b for _, b in self.samples]
        growth = slope_per_hour(after)
        return {
            "role": self.role,
            "pid": self.pid,
            "samples": len(self.samples),
            "rss_start_mib": round(values[0] / MIB, 1) if values else None,
            "rss_end_mib": round(values[-1] / MIB, 1) if values else None,
            "rss_max_mib": round(max(values) / MIB, 1) if values else None,
            "growth_mib_per_hour": None if growth is None else round(growth, 2),
            "rss_mib": [[round(t, 1), round(b / MIB, 1)] for t, b in self.samples],
        }


def sample(memory: dict[int, Memory], server: Server, real: list[RealPlayer], t: float) -> None:
    procs = [(pid, "server worker") for pid in server.workers_pids()]
    procs += [(p.process.pid, f"player {p.name}") for p in real if p.process is not None]
    for pid, role in procs:
        rss = rss_bytes(pid)
        if rss is not None:
            memory.setdefault(pid, Memory(role, pid)).samples.append((t, rss))


def table(result: dict[str, Any]) -> str:
    lines = [
        f"soak: {result['minutes']:g} min, {result['simulated_players']} simulated + "
        f"{len(result['real_players'])} real players, poll every {result['poll_interval_s']} s, "
        f"server {result['server']['workers']} workers × {result['server']['threads']} threads",
        "",
        f"{'process':<18} {'pid':>7} {'start MiB':>10} {'end MiB':>9} {'max MiB':>9} "
        f"{'MiB/hour':>9}",
    ]
    for m in result["memory"]:
        growth = m["growth_mib_per_hour"]
        lines.append(
            f"{m['role']:<18} {m['pid']:>7} {m['rss_start_mib']:>10} {m['rss_end_mib']:>9} "
            f"{m['rss_max_mib']:>9} {'-' if growth is None else f'{growth:+.2f}':>9}"
        )
    lines += ["", "requests (simulated players):"]
    lines += [f"  {k:<18} {v:>9}" for k, v in sorted(result["requests"].items())]
    lines += [f"  {'late steps':<18} {result['late_steps']:>9}", ""]
    for p in result["real_players"]:
        lines.append(
            f"real player {p['name']}: {p['frames']} frames, alive {p['alive']}, "
            f"{len(p['errors'])} errors logged"
        )
    errors = result["errors"]
    lines.append(f"errors: {errors['total']} {json.dumps(errors['by_kind'])}")
    lines += [f"  {e}" for e in errors["examples"]]
    return "\n".join(lines)


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGE_")}
    env.update(
        {
            "SIGNAGE_INSTANCE_PATH": str(tmp / "server"),
            "SIGNAGE_SECRET_KEY": "soak",
            "SIGNAGE_LOG_LEVEL": "WARNING",
            "SIGNAGE_PUBLISH_MARGIN_S": "0",
            "SIGNAGE_POLL_INTERVAL_S": str(args.poll_interval),
            "SIGNAGE_SCREEN_PROFILES": f"{SIZE[0]}x{SIZE[1]}",
            "SIGNAGE_PAIRINGS_PER_ADDRESS": str(args.players + args.real_players + 10),
        }
    )
    if args.database_url:
        env["SIGNAGE_DATABASE_URL"] = args.database_url
    (tmp / "server").mkdir(parents=True, exist_ok=True)
    server = Server(tmp / "server", env, args.workers, args.threads)
    server.start()
    tally = Tally()
    real = [
        RealPlayer(f"real-{i + 1}", tmp / "players" / f"real-{i + 1}")
        for i in range(args.real_players)
    ]
    fleet: Fleet | None = None
    memory: dict[int, Memory] = {}
    try:
        token, effective = seed(server, args.posters, args.players + args.real_players)
        time.sleep(max(0.0, (effective - datetime.now(UTC)).total_seconds()))
        for player in real:
            player.start(server.url, token)
        fleet = Fleet(
            [SimulatedPlayer(i, server.url, token, tally) for i in range(args.players)],
            args.poll_interval,
            args.fleet_threads,
        )
        fleet.start()
        started = time.monotonic()
        end = started + args.minutes * 60
        next_sample = started
        while (now := time.monotonic()) < end:
            if now >= next_sample:
                sample(memory, server, real, now - started)
                next_sample += args.sample_every
            time.sleep(max(0.0, min(next_sample, end) - time.monotonic()))
        sample(memory, server, real, time.monotonic() - started)
    finally:
        if fleet is not None:
            fleet.stop()
        alive = {p.name: p.alive() for p in real}
        for player in real:
            player.stop()
        server.stop()
    errors = Counter(tally.errors)
    examples = list(tally.examples)
    server_errors = logged_errors(server.log_path)
    if server_errors:
        errors["server log"] += len(server_errors)
        examples += server_errors[:5]
    players = []
    for p in real:
        found = logged_errors(p.log_path)
        if found:
            errors[f"{p.name} log"] += len(found)
            examples += found[:5]
        if not alive[p.name]:
            errors[f"{p.name} died"] += 1
        players.append(
            {"name": p.name, "frames": p.changes(), "alive": alive[p.name], "errors": found[:20]}
        )
    warm_up = args.minutes * 60 / 5
    return {
        "minutes": args.minutes,
        "simulated_players": args.players,
        "poll_interval_s": args.poll_interval,
        "server": {
            "workers": args.workers,
            "threads": args.threads,
            "database": "postgresql" if args.database_url else "sqlite",
        },
        "memory": [m.summary(warm_up) for m in memory.values()],
        "requests": dict(tally.requests),
        "late_steps": fleet.late if fleet is not None else 0,
        "real_players": players,
        "errors": {"total": sum(errors.values()), "by_kind": dict(errors), "examples": examples},
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=30.0, help="how long (default 30)")
    p.add_argument("--players", type=int, default=500, help="simulated players (default 500)")
    p.add_argument("--real-players", type=int, default=2, help="real players (default 2)")
    p.add_argument("--poll-interval", type=int, default=30, help="seconds (default 30)")
    p.add_argument("--posters", type=int, default=3, help="posters in the playlist (default 3)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    p.add_argument("--fleet-threads", type=int, default=16, help="simulated players' threads")
    p.add_argument("--sample-every", type=float, default=10.0, help="seconds between samples")
    p.add_argument("--database-url", help="a PostgreSQL database (default: SQLite)")
    p.add_argument("--json", type=Path, help="also write the result as JSON to this file")
    return p.parse_args(argv)


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="signage-soak-") as tmp:
        yield Path(tmp)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with workspace() as tmp:
        result = run(args, tmp)
    print(table(result))
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 1 if result["errors"]["total"] else 0


if __name__ == "__main__":
    sys.exit(main())
