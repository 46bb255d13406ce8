"""Hostile uploads are refused with the right error and a reason, and leave nothing stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from server.media.errors import MediaRejected, UnsupportedMedia
from server.media.images import inspect_image, sniff
from server.media.pipeline import ingest_image
from server.media.store import LocalStore
from tests.server.media.samples import (
    HOSTILE,
    POLYGLOT_SCRIPT,
    Hostile,
    encoded,
    files_under,
    noise,
    png_declaring,
    polyglot_gif,
    write,
)

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 10_000_000


@pytest.mark.parametrize("sample", HOSTILE, ids=lambda s: s.name)
def test_hostile_upload_is_refused_and_nothing_is_stored(
    sample: Hostile, store: LocalStore, tmp_path: Path
) -> None:
    # One good upload first, so "nothing new" is checked against a non-empty store.
    ingest_image(store, io.BytesIO(encoded(noise(40, 30), "PNG")), max_bytes=MAX_BYTES)
    before = files_under(store.root)
    data = sample.make()

    with pytest.raises(sample.error) as caught:
        ingest_image(store, io.BytesIO(data), max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)

    assert type(caught.value) is sample.error
    assert sample.reason.lower() in caught.value.detail.lower()
    assert caught.value.errors and caught.value.errors[0].field == "file"
    assert files_under(store.root) == before
    assert len(list(store.iter_hashes())) == 1


@pytest.mark.parametrize("sample", HOSTILE, ids=lambda s: s.name)
def test_inspect_refuses_hostile_file_on_disk(sample: Hostile, tmp_path: Path) -> None:
    path = write(tmp_path / sample.name, sample.make())
    with pytest.raises(sample.error, match=f"(?i){sample.reason}"):
        inspect_image(path, MAX_PIXELS)


def test_over_cap_png_is_refused_from_its_header_before_decoding(tmp_path: Path) -> None:
    # The pixel data is a few bytes: decoding it would fail as truncated, so a "more than"
    # reason proves the cap was applied to the header first.
    path = write(tmp_path / "big.png", png_declaring(4000, 3000))
    with pytest.raises(MediaRejected, match="12000000 pixels, more than 10000000"):
        inspect_image(path, MAX_PIXELS)
    with pytest.raises(MediaRejected, match="truncated"):
        inspect_image(path, 20_000_000)


def test_gif_javascript_polyglot_is_stored_only_re_encoded(
    store: LocalStore, tmp_path: Path
) -> None:
    data = polyglot_gif()
    assert POLYGLOT_SCRIPT in data and data.startswith(b"GIF89a/*")
    assert sniff(data) == "GIF"

    stored = ingest_image(store, io.BytesIO(data), max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS)

    blob = store.path(stored.sha256)
    assert blob is not None
    kept = blob.read_bytes()
    assert b"alert" not in kept and b"*/" not in kept[:16]
    assert stored.info.format == "PNG" and kept.startswith(b"\x89PNG")
    assert (stored.info.width, stored.info.height) == (0x2A2F, 4)
    with Image.open(blob) as img:
        assert img.getpixel((0, 0)) == (255, 0, 0)
    assert list(store.iter_hashes()) == [stored.sha256]
    assert files_under(store.root / "tmp") == set()


SEEDS = {
    "PNG": encoded(noise(24, 16), "PNG"),
    "JPEG": encoded(noise(24, 16), "JPEG"),
    "GIF": encoded(noise(24, 16).convert("P"), "GIF"),
    "WEBP": encoded(noise(24, 16), "WEBP"),
}


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_damaged_images_are_refused_never_crash(
    store: LocalStore, seed: str, edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(SEEDS[seed])
    for position, value in edits:
        data[position % len(data)] = value
    if cut is not None:
        del data[cut % len(data) :]
    before = files_under(store.root)
    try:
        stored = ingest_image(store, io.BytesIO(bytes(data)), max_bytes=MAX_BYTES)
    except (MediaRejected, UnsupportedMedia):
        assert files_under(store.root) == before
    else:
        assert store.exists(stored.sha256) and files_under(store.root / "tmp") == set()
