"""Uploads, slogans and previews at the same time on a real server: all succeed.

On SQLite a transaction that read before another connection committed can no longer
write; these requests render for up to seconds between their reads and their writes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.assets.models import Variant
from server.media.errors import InvalidMediaRequest, MediaSetupError
from server.media.fonts import find_font
from tests.factories import World
from tests.server.assets.helpers import counts, multipart, server
from tests.server.media.samples import encoded, noise

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SLOGAN = "网络安全为人民，网络安全靠人民"


def test_simultaneous_uploads_slogans_and_previews_all_succeed(
    app: Flask, database_url: str, world: World, session: Session, tmp_path: Path
) -> None:
    try:
        find_font("Noto Sans CJK SC", "bold")
    except (InvalidMediaRequest, MediaSetupError):
        pytest.skip("fontconfig has no 'Noto Sans CJK SC' font (Debian package fonts-noto-cjk)")
    # Different sizes finish at different times: each commit lands while others are busy.
    forms = [
        multipart({"file": (encoded(noise(w, w), "PNG"), f"{w}.png")}) for w in (200, 500, 550)
    ]
    forms += [forms[0], forms[0]]  # the same bytes twice more: one asset, whoever wins
    headers = world["operator"].headers

    with server(app, database_url, tmp_path / "server.log") as (_process, url):
        first = multipart({"file": (encoded(noise(600, 400), "PNG"), "first.png")})
        existing = requests.post(
            f"{url}/api/v1/assets",
            data=first[0],
            headers={**headers, "Content-Type": first[1]},
            timeout=60,
        ).json()

        def post(form: tuple[bytes, str]) -> requests.Response:
            return requests.post(
                f"{url}/api/v1/assets",
                data=form[0],
                headers={**headers, "Content-Type": form[1]},
                timeout=120,
            )

        def slogan(_: int) -> requests.Response:
            return requests.post(
                f"{url}/api/v1/assets/slogans", json={"text": SLOGAN}, headers=headers, timeout=120
            )

        def preview(profile: str) -> requests.Response:
            return requests.get(
                f"{url}{existing['preview_url']}?profile={profile}", headers=headers, timeout=120
            )

        with ThreadPoolExecutor(10) as pool:
            uploads = pool.map(post, forms)
            slogans = pool.map(slogan, range(2))
            previews = pool.map(preview, ["1920x1080", "1080x1920", "3840x2160"])
            responses = [*uploads, *slogans, *previews]

    assert all(r.status_code in (200, 201) for r in responses), [r.text[:200] for r in responses]
    made = [r.json() for r in responses[:7]]
    assert len({m["id"] for m in made[:5]}) == 3 and len({m["id"] for m in made[5:]}) == 1
    assert [r.status_code for r in responses[5:7]].count(201) == 1
    assert counts(session)[0] == 5  # the first poster, three uploads, one slogan
    renders = session.scalar(
        select(func.count()).select_from(Variant).where(Variant.source_sha256 == existing["sha256"])
    )
    assert renders == 4  # its thumbnail and three previews
