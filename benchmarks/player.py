"""Resident memory and CPU of a real player process, against an idle interpreter, same run.

    python benchmarks/player.py                  # online: a local server, 5-second posters
    python benchmarks/player.py --offline        # no server: plays a seeded cache
    python benchmarks/player.py --server URL --enrol-token sge_...   # someone else's server

Online (the default) starts a real server (gunicorn on SQLite, in a temporary instance
folder, polls every 30 s), publishes a playlist of full-HD posters shown 5 seconds each and
enrols the player with an enrolment token: the cost measured is the player's own, polls,
proof-of-play uploads and all. Offline seeds a data directory with what the player would
have saved and cached after a poll and points it at a closed port. The baseline is
`python -c "time.sleep(...)"` started at the same moment. Also reported: how late each
change came against its 5-second boundary, by the player's own corrected clock.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from player.cache import Cache  # noqa: E402
from player.clock import iso_ms  # noqa: E402
from player.manifest import AssetRef, ManifestStore  # noqa: E402
from player.protocol import MediaBody  # noqa: E402
from player.state import Device, DeviceStore  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def poster(i: int, size: tuple[int, int] = (1920, 1080)) -> bytes:
    """A full-HD poster with some detail (a flat colour would decode unrealistically fast)."""
    image = Image.effect_mandelbrot(size, (-2.0 + i * 0.1, -1.0, 1.0, 1.0), 60).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((100, 100, 900, 300), fill=(40 * i % 255, 90, 160))
    draw.text((140, 160), f"Poster {i}", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


class Bytes:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    @contextmanager
    def open_media(self, url: str, offset: int) -> Iterator[MediaBody]:
        data = self.files[url]
        yield MediaBody(start=offset, chunks=iter([data[offset:]]), total=len(data))


def seed_offline(data_dir: Path, posters: int) -> None:
    """What a paired player holds after its first poll: token, manifest, verified cache."""
    media = {f"/media/{i}.png": poster(i) for i in range(posters)}
    refs = [
        AssetRef(hashlib.sha256(d).hexdigest(), url, "image/png", len(d))
        for url, d in media.items()
    ]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    body = {
        "protocol": 1,
        "version": "bench",
        "timezone": "UTC",
        "valid_from": iso_ms(today),
        "valid_until": iso_ms(today + timedelta(days=2)),
        "poll_interval_s": 30,
        "segments": [
            {
                "start": iso_ms(today),
                "end": iso_ms(today + timedelta(days=2)),
                "anchor": iso_ms(today),
                "playlist": "bench",
                "campaign": "benchmark",
                "items": [
                    {"asset": r.sha256, "duration_ms": 5000, "fit": "contain", "transition": "cut"}
                    for r in refs
                ],
            }
        ],
        "assets": {
            r.sha256: {"url": r.url, "media_type": r.media_type, "size": r.size} for r in refs
        },
        "commands": [],
    }
    cache = Cache(data_dir / "cache", 10 * 1024**3)
    cache.open()
    for ref in refs:
        cache.fetch(ref, Bytes(media), set())
    ManifestStore(data_dir / "manifest.json").save(body, '"bench"')
    DeviceStore(data_dir / "device.json").save(Device("sgd_benchmark", 1), "http://127.0.0.1:9")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed_server(instance: Path, env: dict[str, str], posters: int) -> str:
    """A published playlist of `posters` 5-second posters for everyone; an enrolment token."""
    from benchmarks.seeding import publish_posters
    from server.accounts.organisations import create_organisation
    from server.assets.uploads import Author, MediaLimits, upload_image
    from server.config import load_settings
    from server.db import Database, make_engine
    from server.screens.enrolment import issue_enrolment_token
    from server.storage import make_store

    settings = load_settings(environ=env)
    engine = make_engine(settings)
    now = datetime.now(UTC)
    try:
        with Database(engine).session() as session:
            org = create_organisation(session, "Benchmark", None, now)
            session.flush()
            store = make_store(settings)
            assets = [
                upload_image(
                    session, store, org, io.BytesIO(poster(i)), name=f"{i}.png", title="",
                    now=now, limits=MediaLimits.from_settings(settings),
                    author=Author(None, "benchmark"),
                ).asset
                for i in range(posters)
            ]
            publication = publish_posters(
                session, settings, org.id, assets, name="Benchmark", duration_ms=5000,
                dates=(now.date() - timedelta(days=1), now.date() + timedelta(days=7)), now=now,
            )  # fmt: skip
            _, token = issue_enrolment_token(
                session,
                org,
                expires_at=now + timedelta(days=1),
                max_uses=1,
                group_ids=[],
                timezone="Asia/Shanghai",
                name="benchmark",
                now=now,
                created_by_id=None,
            )
            effective = publication.effective_at
    finally:
        engine.dispose()
    # The playlist is live from its effective instant (a poll interval from now).
    time.sleep(max(0.0, (effective - datetime.now(UTC)).total_seconds()))
    return token


@contextmanager
def local_server(tmp: Path, posters: int) -> Iterator[tuple[str, str]]:
    """A real server in a temporary instance folder: (its URL, an enrolment token)."""
    bin_dir = Path(sys.executable).parent
    instance = tmp / "server"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAGE_")}
    env.update(
        {
            "SIGNAGE_INSTANCE_PATH": str(instance),
            "SIGNAGE_SECRET_KEY": "benchmark",
            "SIGNAGE_LOG_LEVEL": "WARNING",
            "SIGNAGE_PUBLISH_MARGIN_S": "0",
            "SIGNAGE_SCREEN_PROFILES": "1920x1080",
        }
    )
    subprocess.run([str(bin_dir / "signage"), "db", "upgrade"], env=env, check=True)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    with open(tmp / "server.log", "wb") as log:
        server = subprocess.Popen(  # noqa: S603
            [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1"]
            + ["--threads", "4", "--log-level", "warning", "server.app:create_app()"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=1):  # noqa: S310
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the server did not start") from None
                    time.sleep(0.1)
            yield url, seed_server(instance, env, posters)
        finally:
            server.terminate()
            server.wait(30)


def sample(pid: int) -> tuple[int, int]:
    """(CPU ticks used so far, resident bytes) of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return ticks, rss_pages * PAGE


def lateness_ms(changes: Path, period_s: float = 5.0) -> list[float]:
    """How far after its boundary each content change was logged."""
    late = []
    for line in changes.read_text().splitlines():
        when, name = line.split("\t")[:2]
        if name.startswith("card:"):
            continue
        t = datetime.fromisoformat(when).timestamp()
        late.append(((t + period_s / 2) % period_s - period_s / 2) * 1000)
    return late[1:]  # the first change is the start-up, not a boundary


def run(args: argparse.Namespace, tmp: Path, server: str | None, token: str | None) -> int:
    duration = args.minutes * 60
    data = tmp / "player"
    if server is None:
        seed_offline(data, args.posters)
    root = args.player_path or ROOT  # another checkout's player, to compare versions
    env = {**os.environ, "PYTHONPATH": str(root), "SIGNAGE_PLAYER_LOG_LEVEL": "WARNING"}
    env.pop("DISPLAY", None)
    env.pop("NOTIFY_SOCKET", None)
    command = [sys.executable, "-m", "player.cli", "--server", server or "http://127.0.0.1:9"]
    command += ["--data-dir", str(data), "--display", "headless", "--size", args.size]
    command += ["--hardware-id", "benchmark-player", "--screenshot-interval", "0"]
    if token:
        command += ["--enrol-token", token]
    baseline = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", f"import time; time.sleep({duration + 30})"]
    )
    player = subprocess.Popen(command, env=env, cwd=root, stderr=subprocess.DEVNULL)  # noqa: S603
    time.sleep(5)  # start-up (pairing, first downloads) is not the steady state
    start = {p.pid: sample(p.pid) for p in (player, baseline)}
    rss: dict[int, list[int]] = {player.pid: [], baseline.pid: []}
    began = time.monotonic()
    while time.monotonic() - began < duration and player.poll() is None:
        time.sleep(1.0)
        for p in (player, baseline):
            rss[p.pid].append(sample(p.pid)[1])
    elapsed = time.monotonic() - began
    end = {p.pid: sample(p.pid) for p in (player, baseline) if p.poll() is None}
    crashed = player.poll() is not None
    for p in (player, baseline):
        p.terminate()
        p.wait(timeout=30)
    if crashed:
        print("the player exited during the run", file=sys.stderr)
        return 1
    late = lateness_ms(data / "changes.log")

    def cpu(pid: int) -> float:
        return (end[pid][0] - start[pid][0]) / TICKS / elapsed * 100

    def mib(values: list[int]) -> float:
        return max(values) / 1024**2

    p_cpu, b_cpu = cpu(player.pid), cpu(baseline.pid)
    p_rss, b_rss = mib(rss[player.pid]), mib(rss[baseline.pid])
    result: dict[str, object] = {
        "mode": args.mode,
        "minutes": round(elapsed / 60, 2),
        "frame_size": args.size,
        "player": {"cpu_percent_of_one_core": round(p_cpu, 2), "max_rss_mib": round(p_rss, 1)},
        "baseline_idle_python": {
            "cpu_percent_of_one_core": round(b_cpu, 2),
            "max_rss_mib": round(b_rss, 1),
        },
        "rss_ratio": round(p_rss / b_rss, 2),
        "cpu_above_baseline_percent": round(p_cpu - b_cpu, 2),
        "rss_growth_mib": round(
            (rss[player.pid][-1] - rss[player.pid][len(rss[player.pid]) // 10]) / 1024**2, 1
        ),
    }
    if late:
        late.sort()
        result["changes"] = len(late)
        result["change_lateness_ms"] = {
            "median": round(late[len(late) // 2], 1),
            "p95": round(late[int(len(late) * 0.95)], 1),
            "max": round(late[-1], 1),
        }
    print(json.dumps(result, indent=2))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long (default: 10)")
    parser.add_argument("--offline", action="store_true", help="play a seeded cache, no server")
    parser.add_argument("--server", help="someone else's server (default: start one here)")
    parser.add_argument("--enrol-token", help="enrolment token for --server")
    parser.add_argument("--posters", type=int, default=6, help="posters in the rotation")
    parser.add_argument("--size", default="1920x1080", help="headless frame size")
    parser.add_argument(
        "--player-path",
        type=Path,
        help="run the player package found in this directory (e.g. an older checkout)",
    )
    args = parser.parse_args()
    if args.server and not args.enrol_token:
        parser.error("--server needs --enrol-token (a screen of a campaign that rotates items)")
    args.mode = "offline" if args.offline else "online"
    with tempfile.TemporaryDirectory(prefix="signage-bench-") as tmp:
        if args.offline:
            return run(args, Path(tmp), None, None)
        if args.server:
            return run(args, Path(tmp), args.server, args.enrol_token)
        with local_server(Path(tmp), args.posters) as (url, token):
            return run(args, Path(tmp), url, token)


if __name__ == "__main__":
    sys.exit(main())
