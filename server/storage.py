"""The app's media store, chosen by the settings: local disk, or an S3-compatible bucket.

A bucket that cannot be reached raises StoreUnavailable, a MediaUnavailable: the
problem+json handler answers 503 with Retry-After."""

from __future__ import annotations

import logging

from flask import Flask, current_app

from server.config import Settings, env_name
from server.errors import ConfigError
from server.media.errors import StoreMisconfigured, StoreUnavailable
from server.media.s3 import S3Store, parse_s3_url
from server.media.store import LocalStore, MediaStore

EXTENSION_KEY = "signage.media"
log = logging.getLogger(__name__)


def make_store(settings: Settings) -> MediaStore:
    if not settings.media_url:
        return LocalStore(settings.media_root)
    # Uploads are staged on local disk before they go to the bucket.
    try:
        return S3Store(parse_s3_url(settings.media_url), settings.media_root / "tmp")
    except StoreUnavailable as exc:  # boto3 is not installed
        raise ConfigError(f"{env_name('media_url')}: {exc}") from exc


def init_app(app: Flask, settings: Settings) -> MediaStore:
    store = make_store(settings)
    if isinstance(store, S3Store):
        try:
            store.check()
        except StoreMisconfigured as exc:
            raise ConfigError(f"{env_name('media_url')}: {exc}") from exc
        except StoreUnavailable as exc:
            # The bucket may come back: start, and answer media requests with 503 meanwhile.
            log.warning("%s: %s", env_name("media_url"), exc)
    app.extensions[EXTENSION_KEY] = store
    return store


def get_store(app: Flask | None = None) -> MediaStore:
    store: MediaStore = (app or current_app).extensions[EXTENSION_KEY]
    return store
