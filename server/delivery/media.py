"""`/media/{sha256}[.ext]`: media bytes by content hash, immutable and cacheable by anyone.

Players and anonymous clients get only what published content uses (an asset or one of
its variants); operators, with a session or an API token, get any asset of their scope.
HEAD, Range (206) and If-None-Match (304) come from Werkzeug's conditional responses, for
blobs on local disk and in a bucket alike; with `media_redirect_s` set and media in a
bucket, published media are answered with a redirect to a presigned URL instead.
"""

from __future__ import annotations

import re
from typing import Final

from flask import Blueprint, Response, current_app, request, send_file, session
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wsgi import wrap_file

from server import clock, storage
from server.accounts.models import Organisation
from server.assets.models import Asset, AssetKind, Variant
from server.assets.variants import EXTENSIONS
from server.auth.actors import API_TOKEN_PREFIX
from server.auth.policy import PUBLIC, bearer_token, current_actor, declare
from server.campaigns import versions as content_version
from server.db import get_session
from server.delivery.runtime import player_runtime
from server.errors import NotFound
from server.media.s3 import S3Store
from server.media.store import MediaStore

bp = Blueprint("media", __name__)
_NAME: Final = re.compile(r"([0-9a-f]{64})(?:\.([a-z0-9]{1,5}))?")
_KNOWN_EXT: Final = frozenset(EXTENSIONS.values()) | {"jpeg", "bin"}
YEAR: Final = 31536000
PUBLIC_CACHE: Final = f"public, max-age={YEAR}, immutable"
# Served to an operator only: no shared cache may hand it to anyone else.
PRIVATE_CACHE: Final = f"private, max-age={YEAR}, immutable"


def _sources(db: Session, sha: str) -> tuple[str | None, set[str]]:
    """The blob's media type and the asset hashes it renders (itself, if it is an asset)."""
    media_type: str | None = None
    sources: set[str] = set()
    for source, kind in db.execute(
        select(Variant.source_sha256, Variant.media_type).where(Variant.sha256 == sha)
    ):
        sources.add(source)
        media_type = media_type or kind
    for kind in db.scalars(
        select(Asset.media_type).where(Asset.sha256 == sha, Asset.kind != AssetKind.SLOGAN)
    ):
        sources.add(sha)
        media_type = media_type or kind
    return media_type, sources


def _published(db: Session, sources: set[str]) -> bool:
    runtime = player_runtime()
    content, _ = runtime.manifests.content(db, content_version.current(db), clock.now())
    return not sources.isdisjoint(runtime.manifests.published_shas(content))


def _operator_sees(db: Session, sources: set[str]) -> bool:
    token = bearer_token()
    if token is not None and not token.startswith(API_TOKEN_PREFIX):
        return False  # a device token (or junk) is treated like an anonymous client
    if token is None and "user_id" not in session:
        return False
    actor = current_actor()  # 401 for a bad API token or a disabled user
    paths = db.scalars(
        select(Organisation.path)
        .join(Asset, Asset.organisation_id == Organisation.id)
        .where(Asset.sha256.in_(sorted(sources)))
    )
    return any(actor.sees(p) for p in paths)


@bp.route("/media/<string:name>", methods=["GET", "HEAD"])
@declare(PUBLIC)
def media(name: str) -> Response:
    match = _NAME.fullmatch(name)
    if match is None or (match.group(2) and match.group(2) not in _KNOWN_EXT):
        raise NotFound("no such media")
    sha = match.group(1)
    # The bytes of a hash never change: a client that holds them needs no further check.
    if request.if_none_match.contains(sha):
        return Response(status=304, headers={"ETag": f'"{sha}"', "Cache-Control": PUBLIC_CACHE})
    db = get_session()
    media_type, sources = _sources(db, sha)
    store = storage.get_store()
    if media_type is None or not store.exists(sha):
        raise NotFound("no such media")
    if _published(db, sources):
        cache_control = PUBLIC_CACHE
    elif _operator_sees(db, sources):
        cache_control = PRIVATE_CACHE
    else:
        raise NotFound("no such media")
    redirect_s = current_app.config["SIGNAGE"].media_redirect_s
    if redirect_s and cache_control == PUBLIC_CACHE and isinstance(store, S3Store):
        return _redirect(store, sha, media_type, redirect_s)
    path = store.path(sha)
    if path is not None:
        response = send_file(path, mimetype=media_type, etag=sha, conditional=True, max_age=YEAR)
    else:
        response = _stream(store, sha, media_type)
    response.headers["Cache-Control"] = cache_control
    response.headers["Accept-Ranges"] = "bytes"
    if cache_control == PRIVATE_CACHE:
        response.vary.update(("Authorization", "Cookie"))
    return response


def _stream(store: MediaStore, sha: str, media_type: str) -> Response:
    """The blob from a store without local files, read as it is sent; a Range request
    reads only its range from the store (the reader seeks, see server.media.s3)."""
    size = store.size(sha)
    response = Response(
        wrap_file(request.environ, store.open(sha)), mimetype=media_type, direct_passthrough=True
    )
    response.content_length = size
    response.set_etag(sha)
    response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
    return response


def _redirect(store: S3Store, sha: str, media_type: str, expires_s: int) -> Response:
    """A redirect to the bucket itself. A cache may keep it for half the URL's life, so
    whoever follows a cached redirect still finds the URL valid."""
    url = store.presigned_url(sha, expires_s=expires_s, media_type=media_type)
    cache = f"public, max-age={expires_s // 2}"
    return Response(status=302, headers={"Location": url, "Cache-Control": cache})
