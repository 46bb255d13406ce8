"""Media throughput, as ratios against baselines measured in the same run.

1. Variants: a generated 24-megapixel JPEG (6000x4000) into the four default screen
   profiles, against decoding that JPEG once.
2. Uploads: `LocalStore.put_stream` + `commit` of N MiB, against writing the same bytes
   with plain open/write/fsync.

Run: .venv/bin/python benchmarks/media.py [--repeat 5] [--mib 64]
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

from PIL import Image

from server.media.profiles import DEFAULT_PROFILES, parse_profiles
from server.media.store import LocalStore
from server.media.variants import make_variant


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (median)")
    parser.add_argument("--mib", type=int, default=64, help="upload size in MiB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="signage-bench-", dir=Path.cwd()) as scratch:
        bench_variants(Path(scratch), args.repeat)
        bench_upload(Path(scratch), args.repeat, args.mib)


if __name__ == "__main__":
    main()
