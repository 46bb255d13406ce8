"""Creating assets: image uploads (multipart) and slogans; thumbnails and screen previews.

The metadata routes (list, get, retitle, delete) are in `server.assets.views.records`; both
blueprints live under /assets.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, BinaryIO, Literal, cast

from flask import Blueprint, Response, current_app, json, request, send_file
from pydantic import BaseModel, Field
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from server import clock
from server.api.registry import API_PREFIX, api
from server.api.schemas import Id, Strict
from server.assets import uploads as service
from server.assets.models import Asset, AssetKind
from server.assets.services import get_asset
from server.auth.policy import READ, WRITE, current_actor
from server.config import Settings
from server.db import MAX_ID, get_session
from server.errors import FieldError, PayloadTooLarge, ValidationFailed
from server.media.errors import UnsupportedMedia
from server.media.profiles import parse_profile
from server.media.store import MediaStore
from server.monitoring.views import get_metrics
from server.storage import get_store

bp = Blueprint("uploads", __name__, url_prefix="/assets")
REFUSALS_COUNTED = frozenset({"upload", "create_slogan"})


@bp.after_request
def _count_refusal(response: Response) -> Response:
    view = (request.endpoint or "").rsplit(".", 1)[-1]
    if response.status_code >= 400 and view in REFUSALS_COUNTED and response.status_code not in (
        401,
        403,
        404,
    ):
        get_metrics().upload_refused(response.status_code)
    return response

FILE_FIELD = "file"
FORM_FIELDS = frozenset({"organisation_id", "title"})
# A thumbnail URL carries the asset's hash: such a response never changes (an id may be
# reused after a delete on SQLite, a hash may not), so it may be cached for good.
IMMUTABLE = "private, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"
_VERSION_CHARS = 16
MEDIA_ERRORS = {
    413: "The file is larger than max_upload_bytes",
    415: "Not a PNG, JPEG, WebP or GIF image (the reason names what it is)",
    422: "Broken image, decompression bomb, too many pixels, or invalid fields",
}


class UploadedAsset(BaseModel):
    id: int
    organisation_id: int
    kind: AssetKind
    sha256: str = Field(description="SHA-256 of the stored (normalised) bytes")
    media_type: str
    size: int
    width: int | None
    height: int | None
    original_name: str = Field(description="The client's file name, for display only")
    title: str
    slogan: dict[str, Any] | None = Field(description="Text and style, for slogans")
    created_at: datetime
    thumbnail_url: str
    preview_url: str


class SloganIn(Strict):
    text: str = Field(min_length=1, max_length=500)
    style: dict[str, Any] = Field(
        default_factory=dict, description="font_family, weight, colours, align, margins, ..."
    )
    title: str | None = Field(default=None, max_length=300)
    organisation_id: Id | None = Field(
        default=None, description="Default: your organisation, if you belong to only one"
    )


class ThumbnailQuery(Strict):
    v: str | None = Field(
        default=None, max_length=64, description="The asset's hash prefix, as in thumbnail_url"
    )


class PreviewQuery(Strict):
    profile: str | None = Field(
        default=None,
        max_length=20,
        description="WIDTHxHEIGHT of a screen; default: the first configured profile",
    )
    fit: Literal["contain", "cover"] = "contain"


def _settings() -> Settings:
    settings: Settings = current_app.config["SIGNAGE"]
    return settings


def _limits() -> service.MediaLimits:
    return service.MediaLimits.from_settings(_settings())


def _out(asset: Asset) -> UploadedAsset:
    base = f"{API_PREFIX}/assets/{asset.id}"
    return UploadedAsset.model_validate(
        {
            **{k: getattr(asset, k) for k in UploadedAsset.model_fields if hasattr(asset, k)},
            "thumbnail_url": f"{base}/thumbnail?v={asset.sha256[:_VERSION_CHARS]}",
            "preview_url": f"{base}/preview",
        }
    )


def _created(result: service.Created) -> Response:
    body = json.dumps(_out(result.asset).model_dump(mode="json"))
    response = Response(body, status=201 if result.created else 200, mimetype="application/json")
    response.headers["Location"] = f"{API_PREFIX}/assets/{result.asset.id}"
    return response


def _form() -> tuple[FileStorage, dict[str, str]]:
    """The multipart `file` and the text fields; the body is capped by MAX_CONTENT_LENGTH."""
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMedia(
            "send the image as multipart/form-data, in the field 'file'",
            [FieldError("Content-Type", "must be multipart/form-data")],
        )
    try:
        files, form = request.files, request.form
    except RequestEntityTooLarge:
        limit = _settings().max_upload_bytes
        raise PayloadTooLarge(
            f"upload exceeds the limit of {limit} bytes",
            [FieldError(FILE_FIELD, f"larger than {limit} bytes")],
        ) from None
    # A part without a name is keyed None by Werkzeug.
    names = {key or "" for key in (*form, *files)}
    errors = [
        FieldError(key or "(unnamed part)", "unknown field")
        for key in sorted(names)
        if key not in FORM_FIELDS and key != FILE_FIELD
    ]
    errors += [FieldError(k, "give it once") for k in FORM_FIELDS if len(form.getlist(k)) > 1]
    uploads = files.getlist(FILE_FIELD)
    if FILE_FIELD in form:
        errors.append(FieldError(FILE_FIELD, "send a file part (with a filename), not text"))
    elif len(uploads) != 1:
        errors.append(FieldError(FILE_FIELD, "required, exactly one file"))
    if errors:
        raise ValidationFailed("invalid upload form", errors)
    return uploads[0], {k: form[k] for k in FORM_FIELDS if k in form}


def _org_id(raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip()
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise ValidationFailed(
            f"organisation_id {raw!r} is not an id",
            [FieldError("organisation_id", f"an integer from 1 to {MAX_ID}")],
        )
    return int(value)


@api.route(
    bp,
    "",
    "POST",
    policy=WRITE,
    summary="Upload an image (multipart field `file`); 200 with the existing asset for "
    "bytes the organisation already has",
    response=UploadedAsset,
    status=201,
    raw_body="multipart/form-data",
    extra_responses={**MEDIA_ERRORS, 200: "The organisation already has these bytes: that asset"},
)
def upload() -> Response:
    db, actor = get_session(), current_actor()
    upload, fields = _form()
    org = service.target_organisation(db, actor, _org_id(fields.get("organisation_id")))
    result = service.upload_image(
        db,
        get_store(),
        org,
        cast(BinaryIO, upload.stream),
        name=upload.filename or "",
        title=fields.get("title", ""),
        now=clock.now(),
        limits=_limits(),
        author=service.Author.of(actor),
    )
    db.commit()
    return _created(result)


@api.route(
    bp,
    "/slogans",
    "POST",
    policy=WRITE,
    summary="Create a slogan (text + style); 200 with the existing asset for the same one",
    body=SloganIn,
    response=UploadedAsset,
    status=201,
    extra_responses={
        200: "The organisation already has this slogan: that asset",
        422: "Invalid style, characters the font lacks, or text that cannot fit",
    },
)
def create_slogan(body: SloganIn) -> Response:
    db, actor = get_session(), current_actor()
    org = service.target_organisation(db, actor, body.organisation_id)
    result = service.create_slogan(
        db,
        get_store(),
        org,
        text=body.text,
        style=body.style,
        title=body.title,
        now=clock.now(),
        limits=_limits(),
        author=service.Author.of(actor),
    )
    db.commit()
    return _created(result)


def _send(store: MediaStore, sha: str, media_type: str, cache_control: str) -> Response:
    path = store.path(sha)
    response = send_file(
        path if path is not None else store.open(sha),
        mimetype=media_type,
        etag=sha,
        conditional=True,
        max_age=None,
    )
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.pop("Expires", None)
    return response


@api.route(
    bp,
    "/<int:asset_id>/thumbnail",
    "GET",
    policy=READ,
    summary="The asset's thumbnail (at most 320 px a side)",
    query=ThumbnailQuery,
    raw_response="image/*",
)
def thumbnail(asset_id: int, query: ThumbnailQuery) -> Response:
    db = get_session()
    asset = get_asset(db, current_actor(), asset_id)
    row = service.thumbnail(db, get_store(), asset, clock.now(), _limits())
    db.commit()
    fixed = query.v is not None and len(query.v) >= 8 and asset.sha256.startswith(query.v)
    return _send(get_store(), row.sha256, row.media_type, IMMUTABLE if fixed else REVALIDATE)


@api.route(
    bp,
    "/<int:asset_id>/preview",
    "GET",
    policy=READ,
    summary="What a screen of the given profile shows for the asset (header Signage-Profile "
    "names the profile it was rendered for)",
    query=PreviewQuery,
    raw_response="image/*",
)
def preview(asset_id: int, query: PreviewQuery) -> Response:
    db = get_session()
    asset = get_asset(db, current_actor(), asset_id)
    wanted = parse_profile(query.profile) if query.profile else None
    profile, row = service.preview(
        db, get_store(), asset, wanted, query.fit, clock.now(), _limits()
    )
    db.commit()
    response = _send(get_store(), row.sha256, row.media_type, REVALIDATE)
    response.headers["Signage-Profile"] = str(profile)
    return response
