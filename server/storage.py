"""The app's media store: local content-addressed files now; a shared store plugs in here."""

from __future__ import annotations

from flask import Flask, current_app

from server.config import Settings
from server.media.store import LocalStore, MediaStore

EXTENSION_KEY = "signage.media"


def make_store(settings: Settings) -> MediaStore:
    return LocalStore(settings.media_root)


def init_app(app: Flask, settings: Settings) -> MediaStore:
    store = make_store(settings)
    app.extensions[EXTENSION_KEY] = store
    return store


def get_store(app: Flask | None = None) -> MediaStore:
    store: MediaStore = (app or current_app).extensions[EXTENSION_KEY]
    return store
