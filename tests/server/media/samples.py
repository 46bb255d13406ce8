"""Images and hostile files made by code, for the media tests (no binary fixtures)."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from server.errors import KnownError
from server.media.errors import MediaRejected, UnsupportedMedia

POLYGLOT_SCRIPT = b"*/=alert('polyglot');/*"


def noise(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Random pixels: they do not compress, so a cut file really lacks data."""
    bands = len(mode)
    return Image.frombytes(mode, (width, height), os.urandom(width * height * bands))


def encoded(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_declaring(width: int, height: int, idat: bytes = b"") -> bytes:
    """A PNG whose header declares width x height; the pixel data is whatever is given."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", idat or zlib.compress(b"\x00" * 64))
        + _chunk(b"IEND", b"")
    )


def bomb_png(width: int, height: int) -> bytes:
    """A 1-bit greyscale PNG of width x height zeros: huge decoded, tiny on disk."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * 500) for _ in range(height // 500)]
    parts.append(compressor.compress(row * (height % 500)))
    parts.append(compressor.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def polyglot_gif() -> bytes:
    """A valid GIF that is also JavaScript: `GIF89a/*…*/=alert(…);/*…*/`.

    Its width 10799 is the bytes "/*", opening a comment that the GIF's own comment
    extension closes before the script.
    """
    img = Image.new("P", (0x2A2F, 4), 1)
    img.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    data = encoded(img, "GIF", comment=POLYGLOT_SCRIPT)
    assert data[6:8] == b"/*"
    return data + b"*/"


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("poster.png", encoded(noise(8, 8), "PNG"))
    return out.getvalue()


def adobe_rgb_icc() -> bytes:
    """An ICC v2 matrix/TRC display profile with Adobe RGB (1998) primaries, gamma 2.2."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 563) + b"\0\0"  # 563/256 = 2.199
    name = b"Test Adobe RGB\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(name)) + name + b"\0" * 12 + b"\0" * 67
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.60974, 0.31111, 0.01947)),
        (b"gXYZ", xyz(0.20528, 0.62567, 0.06087)),
        (b"bXYZ", xyz(0.14919, 0.06322, 0.74457)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0no copyright\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, blob = b"", b""
    for signature, data in tags:
        padded = data + b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(blob), len(data))
        blob += padded
    size = offset + len(blob)
    header = (
        struct.pack(">I", size)
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)  # perceptual
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
    )
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + blob


@dataclass(frozen=True)
class Hostile:
    """A file that must be refused, with the error class and a word of the reason."""

    name: str
    make: Callable[[], bytes]
    error: type[KnownError]
    reason: str


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


HOSTILE: tuple[Hostile, ...] = (
    Hostile("zero-bytes.png", lambda: b"", MediaRejected, "empty"),
    Hostile("bomb.png", lambda: bomb_png(30000, 30000), MediaRejected, "bomb"),
    Hostile(
        "huge-dimensions.png",
        lambda: png_declaring(100000, 100000),
        MediaRejected,
        "bomb",
    ),
    Hostile(
        "over-cap.png",  # below Pillow's own threshold: refused by our cap, before decoding
        lambda: png_declaring(6000, 6000),
        MediaRejected,
        "more than",
    ),
    Hostile(
        "truncated.png",
        lambda: _cut(encoded(noise(300, 300), "PNG")),
        MediaRejected,
        "truncated",
    ),
    Hostile(
        "truncated.jpg",
        lambda: _cut(encoded(noise(300, 300), "JPEG", quality=95)),
        MediaRejected,
        "truncated",
    ),
    Hostile(
        "png-magic-then-garbage.png",
        lambda: b"\x89PNG\r\n\x1a\n" + os.urandom(2000),
        MediaRejected,
        "undecodable",
    ),
    Hostile(
        "script.svg",
        lambda: (
            b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
            b"<script>alert(1)</script></svg>"
        ),
        UnsupportedMedia,
        "SVG",
    ),
    Hostile(
        "page.png",  # HTML renamed .png
        lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        UnsupportedMedia,
        "HTML",
    ),
    Hostile("archive.png", zip_archive, UnsupportedMedia, "ZIP"),
    Hostile(
        "program.jpg",
        lambda: b"\x7fELF\x02\x01\x01" + b"\0" * 200,
        UnsupportedMedia,
        "executable",
    ),
    Hostile("notes.gif", lambda: "just some text, 网络安全".encode(), UnsupportedMedia, "text"),
    Hostile("noise.webp", lambda: b"\xfe\xfd" + os.urandom(4000), UnsupportedMedia, "binary"),
    Hostile(
        "bitmap.png",
        lambda: encoded(noise(16, 16), "BMP"),
        UnsupportedMedia,
        "BMP",
    ),
)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def files_under(root: Path) -> set[str]:
    """Every file below `root`, relative: what a store holds, committed or staged."""
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
