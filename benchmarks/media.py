"""Media throughput, as ratios against baselines measured in the same run.

1. Variants: a generated 24-megapixel JPEG (6000x4000) into the four default screen
   profiles, against decoding that JPEG once.
2. Uploads: `LocalStore.put_stream` + `commit` of N MiB, against writing the same bytes
   with plain open/write/fsync.
3. The upload endpoint: POST /api/v1/assets of a photo-like JPEG of about M MiB through
   the real app (Flask test client, SQLite, local store: multipart parsing, checks,
   normalising, thumbnail, rows, audit), against writing the same bytes to disk, and
   against `ingest_image` alone (what HTTP, the thumbnail and the database add).

Run: .venv/bin/python benchmarks/media.py [--repeat 5] [--mib 64] [--upload-mib 8]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from server.media.pipeline import ingest_image
from server.media.profiles import DEFAULT_PROFILES, parse_profiles
from server.media.store import LocalStore
from server.media.variants import make_variant

# A photo-like JPEG at quality 90 takes about this many bytes per pixel (see camera_jpeg).
JPEG_BYTES_PER_PIXEL = 0.27


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs, after one warm-up run."""
    action()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def camera_jpeg(path: Path, width: int = 6000, height: int = 4000) -> None:
    """A photo-like JPEG: smooth gradients with grain, so it compresses like a real one."""
    grain = Image.effect_noise((width, height), 24)
    red = Image.linear_gradient("L").resize((width, height))
    blue = red.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    green = Image.blend(grain, red, 0.6)
    Image.merge("RGB", (red, green, blue)).save(path, "JPEG", quality=90)


def bench_variants(scratch: Path, repeat: int) -> None:
    source = scratch / "camera.jpg"
    camera_jpeg(source)
    profiles = parse_profiles(DEFAULT_PROFILES)

    def decode() -> None:
        with Image.open(source) as img:
            img.load()

    def variants() -> None:
        for profile in profiles:
            make_variant(source, scratch / "variant", profile.width, profile.height, "cover")

    base = timed(decode, repeat)
    work = timed(variants, repeat)
    size_mib = source.stat().st_size / 2**20
    names = ", ".join(str(p) for p in profiles)
    print(f"variants: 6000x4000 JPEG ({size_mib:.1f} MiB) into {names} (cover)")
    print(f"  baseline, decode once    {base * 1000:8.1f} ms   {1 / base:6.2f} images/s")
    print(f"  four variants per image  {work * 1000:8.1f} ms   {1 / work:6.2f} images/s")
    print(f"  ratio (variants / decode) {work / base:6.2f}")


def bench_upload(scratch: Path, repeat: int, mib: int) -> None:
    data = os.urandom(mib * 2**20)
    store = LocalStore(scratch / "store")

    def plain() -> None:
        target = scratch / "plain.bin"
        with target.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        target.unlink()

    def stored() -> None:
        digest = store.commit(store.put_stream(io.BytesIO(data), max_bytes=len(data)))
        store.delete(digest)  # so every run writes, not deduplicates

    base = timed(plain, repeat)
    work = timed(stored, repeat)
    print(f"upload: {mib} MiB")
    print(f"  baseline, open/write/fsync    {base * 1000:8.1f} ms   {mib / base:7.1f} MiB/s")
    print(f"  put_stream+commit (sha256)    {work * 1000:8.1f} ms   {mib / work:7.1f} MiB/s")
    print(f"  ratio (store / plain write)   {work / base:6.2f}")


def timed_fresh(action: Callable[[], object], reset: Callable[[], object], repeat: int) -> float:
    """Like `timed`, with `reset` run untimed before every run (so nothing deduplicates)."""
    samples = []
    for run in range(repeat + 1):
        reset()
        start = time.perf_counter()
        action()
        if run:  # the first run warms up
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def api_client(instance: Path) -> tuple[Any, dict[str, str], Callable[[], None]]:
    """A test client on a migrated SQLite instance, an operator's headers, and a reset
    that forgets every asset, variant and stored blob."""
    from datetime import UTC, datetime

    from sqlalchemy import delete

    from server.accounts.models import Role
    from server.accounts.organisations import create_organisation
    from server.accounts.users import create_user
    from server.app import create_app
    from server.assets.models import Asset, Variant
    from server.auth.actors import create_api_token
    from server.auth.models import AuditEvent
    from server.db import get_db
    from server.migrations import upgrade

    app = create_app({"instance_path": instance, "secret_key": "bench", "heartbeat_thread": False})
    database = get_db(app)
    upgrade(database.engine)
    now = datetime.now(UTC)
    with database.session() as session:
        org = create_organisation(session, "Bench", None, now)
        session.flush()
        user = create_user(session, "bench@example.org", "bench-password", org, Role.OPERATOR, now)
        session.flush()
        _, token = create_api_token(session, user, "bench", now)
    store = LocalStore(app.config["SIGNAGE"].media_root)

    def reset() -> None:
        with database.session() as session:
            for table in (Variant, Asset, AuditEvent):
                session.execute(delete(table))
        for sha in list(store.iter_hashes()):
            store.delete(sha)

    return app.test_client(), {"Authorization": f"Bearer {token}"}, reset


def bench_api_upload(scratch: Path, repeat: int, mib: float) -> None:
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    side = int((mib * 2**20 / JPEG_BYTES_PER_PIXEL / 1.5) ** 0.5)
    source = scratch / "poster.jpg"
    camera_jpeg(source, int(side * 1.5), side)
    data = source.read_bytes()
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), "poster.jpg")})
    client, headers, reset = api_client(scratch / "instance")
    headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    store = LocalStore(scratch / "ingest-store")

    def plain() -> None:
        target = scratch / "plain.jpg"
        with target.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        target.unlink()

    def ingest() -> None:
        ingest_image(store, io.BytesIO(data), max_bytes=len(data))

    def forget() -> None:
        for sha in list(store.iter_hashes()):
            store.delete(sha)

    def post() -> None:
        response = client.post("/api/v1/assets", data=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)

    base = timed(plain, repeat)
    alone = timed_fresh(ingest, forget, repeat)
    work = timed_fresh(post, reset, repeat)
    again = timed(lambda: client.post("/api/v1/assets", data=body, headers=headers), repeat)
    size = len(data) / 2**20
    print(f"upload endpoint: {int(side * 1.5)}x{side} JPEG ({size:.1f} MiB), POST /api/v1/assets")
    print(f"  baseline, open/write/fsync      {base * 1000:8.1f} ms   {size / base:7.1f} MiB/s")
    print(f"  ingest_image (check+normalise)  {alone * 1000:8.1f} ms   {size / alone:7.1f} MiB/s")
    print(f"  POST, new asset (+thumb, rows)  {work * 1000:8.1f} ms   {size / work:7.1f} MiB/s")
    print(f"  POST, same bytes again (200)    {again * 1000:8.1f} ms   {size / again:7.1f} MiB/s")
    print(f"  ratio (POST / plain write)      {work / base:6.2f}")
    print(f"  ratio (POST / ingest_image)     {work / alone:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (median)")
    parser.add_argument("--mib", type=int, default=64, help="upload size in MiB")
    parser.add_argument(
        "--upload-mib", type=float, default=8, help="size of the JPEG posted to the API, MiB"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="signage-bench-", dir=Path.cwd()) as scratch:
        bench_variants(Path(scratch), args.repeat)
        bench_upload(Path(scratch), args.repeat, args.mib)
        bench_api_upload(Path(scratch), args.repeat, args.upload_mib)


if __name__ == "__main__":
    main()
