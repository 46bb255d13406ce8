"""Issue 12, finding 10: no error body carries a server path (Pillow names the files it reads)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from server.media.images import inspect_image
from tests.server.assets.helpers import upload
from tests.server.media.samples import HOSTILE, png_declaring

PNG = b"\x89PNG\r\n\x1a\n"


def _corpus() -> list[tuple[str, bytes]]:
    """Files that make Pillow fail in as many ways as we know, beside the hostile samples."""
    cases = [(f"hostile-{h.name}", h.make()) for h in HOSTILE]
    cases += [
        ("png-garbage", PNG + b"\x00" * 64),
        ("png-bad-ihdr", PNG + b"\x00\x00\x00\x0dIHDR" + b"\xff" * 17),
        ("png-no-idat", png_declaring(64, 64)),
        ("jpeg-garbage", b"\xff\xd8\xff\xe0" + b"\x00" * 64),
        ("jpeg-truncated", b"\xff\xd8\xff\xdb\x00\x43\x00" + b"\x01" * 20),
        ("gif-garbage", b"GIF89a" + b"\xff" * 32),
        ("webp-garbage", b"RIFF\x20\x00\x00\x00WEBPVP8 " + b"\x00" * 24),
    ]
    return cases


def test_finding_10_upload_refusals_carry_no_server_path(
    app: Flask, client: FlaskClient, world: Any, tmp_path: Path
) -> None:
    secrets = {
        str(app.config["SIGNAGE"].media_root.resolve()),
        str(Path(app.instance_path)),
        str(tmp_path),
        "/tmp",  # noqa: S108 - looked for, not used
        ".part",
    }
    refused = 0
    for name, data in _corpus():
        r = upload(client, world["operator"].headers, data, f"{name}.png")
        text = r.get_data(as_text=True)
        if r.status_code < 400:
            continue
        refused += 1
        assert r.status_code < 500, (name, text)
        leaked = [s for s in secrets if s in text]
        assert not leaked, (name, text)
        assert not re.search(r"'/[^']*'", text), (name, text)
    assert refused >= len(_corpus()) - 1


def test_finding_10_image_checks_name_no_path_of_the_file_they_read(tmp_path: Path) -> None:
    folder = tmp_path / "srv-signage-media" / "tmp"
    folder.mkdir(parents=True)
    for name, data in _corpus():
        path = folder / f"put-{name}.part"
        path.write_bytes(data)
        try:
            inspect_image(path)
        except Exception as exc:  # the media package's own errors, whatever their root's name
            errors = getattr(exc, "errors", [])
            text = str(exc) + " ".join(e.reason for e in errors)
            assert "srv-signage-media" not in text and ".part" not in text, (name, text)
