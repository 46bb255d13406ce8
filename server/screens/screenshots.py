"""Screenshots: the latest picture a player sent of its screen, checked by decoding it."""

from __future__ import annotations

from datetime import datetime
from typing import BinaryIO, Final

from sqlalchemy.orm import Session

from server.errors import FieldError
from server.media.errors import UnsupportedMedia
from server.media.images import inspect_image
from server.media.store import MediaStore
from server.screens.models import Screenshot

ACCEPTED: Final = {"image/jpeg": "JPEG", "image/png": "PNG"}
MAX_PIXELS: Final = 40_000_000  # an 8K screen is 33 MP


def save_screenshot(
    session: Session,
    store: MediaStore,
    screen_id: int,
    data: BinaryIO,
    media_type: str,
    max_bytes: int,
    now: datetime,
) -> Screenshot:
    """Check the image (its declared type must be what it decodes as) and keep it as the
    screen's latest; the bytes go to the media store."""
    if media_type not in ACCEPTED:
        raise UnsupportedMedia(
            f"screenshots are image/jpeg or image/png, not {media_type or 'untyped'}",
            [FieldError("Content-Type", "image/jpeg or image/png")],
        )
    staged = store.put_stream(data, max_bytes)  # PayloadTooLarge past the cap
    try:
        info = inspect_image(staged.path, MAX_PIXELS)
        if info.format != ACCEPTED[media_type]:
            raise UnsupportedMedia(
                f"the body is {info.format}, not {media_type}",
                [FieldError("Content-Type", f"does not match the bytes ({info.format})")],
            )
        sha = store.commit(staged)
    except BaseException:
        store.discard(staged)
        raise
    row = session.get(Screenshot, screen_id)
    if row is None:
        row = Screenshot(screen_id=screen_id)
        session.add(row)
    row.sha256, row.media_type = sha, info.media_type
    row.width, row.height, row.taken_at = info.width, info.height, now
    return row
