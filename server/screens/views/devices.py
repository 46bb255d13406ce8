"""Operators and the fleet: claiming pairing codes, enrolment tokens, revoking devices,
commands, screenshots, and the fleet's online state."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from flask import Blueprint, Response, current_app, send_file
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select

from server import clock, storage
from server.accounts.models import Organisation, Role
from server.accounts.organisations import org_or_404
from server.api.registry import api
from server.api.schemas import Id, ListQuery, Page, Strict, paginate
from server.auth import audit, limits
from server.auth.actors import Actor
from server.auth.policy import ADMIN, READ, WRITE, client_address, current_actor
from server.auth.scope import in_scope
from server.config import Settings
from server.db import MAX_ID, get_session
from server.errors import NotFound
from server.screens import commands as fleet_commands
from server.screens import joining
from server.screens.models import Command, EnrolmentToken, Screen, Screenshot
from server.screens.services import get_screen, offline_cutoff
from server.screens.status import asset_titles, fleet_row

bp = Blueprint("fleet", __name__)


def _settings() -> Settings:
    settings: Settings = current_app.config["SIGNAGE"]
    return settings


def _audit(
    actor: Actor, action: str, object_type: str, obj_id: object, org_id: int, **after: object
) -> None:
    audit.record(
        get_session(),
        actor,
        clock.now(),
        action,
        object_type,
        obj_id,
        org_id,
        after=dict(after) if after else None,
    )


class ClaimIn(Strict):
    code: str = Field(min_length=1, max_length=20, description="The code the screen shows")
    organisation_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="Required unless replace_screen_id is given"
    )
    replace_screen_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ID,
        description="Accept the device as the replacement of this screen's device: the screen "
        "keeps its place and history, its old device token stops working",
    )
    name: str | None = Field(default=None, min_length=1, max_length=200)
    group_ids: list[Id] = Field(default_factory=list, max_length=100)
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA name (default: the organisation's)"
    )


class ClaimedScreenOut(BaseModel):
    id: int
    name: str
    organisation_id: int
    timezone: str
    width: int
    height: int
    group_ids: list[int]
    created_at: datetime


@api.route(
    bp,
    "/pairings/claim",
    "POST",
    policy=WRITE,
    summary="Claim the pairing code a screen shows; its player then collects its token",
    body=ClaimIn,
    response=ClaimedScreenOut,
    status=201,
    extra_responses={
        409: "The device's hardware id belongs to another screen (see replace_screen_id)",
        429: "Too many wrong codes for this organisation or from this address",
    },
)
def claim_code(body: ClaimIn) -> ClaimedScreenOut:
    db, actor, now = get_session(), current_actor(), clock.now()
    _, org_key = joining.claim_org_key(db, actor, body.organisation_id, body.replace_screen_id)
    by_org, by_address = joining.claim_limits(_settings())
    address = client_address()
    limits.check(db, by_org, org_key, now)
    limits.check(db, by_address, address, now)
    try:
        screen, _ = joining.claim_code(db, actor, now, **body.model_dump())
    except NotFound as exc:
        if any(e.field == "code" for e in exc.errors):  # a wrong code: it counts
            db.rollback()
            limits.hit(db, by_org, org_key, now)
            limits.hit(db, by_address, address, now)
            db.commit()
        raise
    db.commit()
    return ClaimedScreenOut(
        id=screen.id,
        name=screen.name,
        organisation_id=screen.organisation_id,
        timezone=screen.timezone,
        width=screen.width,
        height=screen.height,
        group_ids=sorted(g.id for g in screen.groups),
        created_at=screen.created_at,
    )


class EnrolmentTokenIn(Strict):
    expires_at: AwareDatetime
    max_uses: int = Field(ge=1, le=1_000_000)
    group_ids: list[Id] = Field(default_factory=list, max_length=100)
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="Zone of the screens that join (default: the organisation's)",
    )
    name: str = Field(default="", max_length=200)


class EnrolmentTokenOut(BaseModel):
    id: int
    organisation_id: int
    name: str
    group_ids: list[int]
    timezone: str
    max_uses: int
    uses: int
    expires_at: datetime
    revoked_at: datetime | None
    created_at: datetime


class EnrolmentTokenCreated(EnrolmentTokenOut):
    token: str = Field(description="Shown once; give it to players as enrol_token")


def _token_out(row: EnrolmentToken) -> EnrolmentTokenOut:
    return EnrolmentTokenOut.model_validate(row, from_attributes=True)


@api.route(
    bp,
    "/organisations/<int:org_id>/enrolment-tokens",
    "POST",
    policy=ADMIN,
    summary="Issue an enrolment token: players presenting it join this organisation",
    body=EnrolmentTokenIn,
    response=EnrolmentTokenCreated,
    status=201,
)
def create_enrolment_token(org_id: int, body: EnrolmentTokenIn) -> EnrolmentTokenCreated:
    db = get_session()
    row, clear = joining.create_enrolment_token(
        db, current_actor(), clock.now(), organisation_id=org_id, **body.model_dump()
    )
    db.commit()
    return EnrolmentTokenCreated(**_token_out(row).model_dump(), token=clear)


@api.route(
    bp,
    "/organisations/<int:org_id>/enrolment-tokens",
    "GET",
    policy=ADMIN,
    summary="An organisation's enrolment tokens (without their secrets)",
    response=EnrolmentTokenOut,
    list_response=True,
)
def list_enrolment_tokens(org_id: int) -> list[EnrolmentTokenOut]:
    rows = joining.enrolment_tokens(get_session(), current_actor(), org_id)
    return [_token_out(r) for r in rows]


@api.route(
    bp,
    "/enrolment-tokens/<int:token_id>",
    "DELETE",
    policy=ADMIN,
    summary="Revoke an enrolment token (screens that joined with it stay)",
)
def revoke_enrolment(token_id: int) -> None:
    db = get_session()
    joining.revoke_enrolment_token(db, current_actor(), clock.now(), token_id)
    db.commit()


@api.route(
    bp,
    "/screens/<int:screen_id>/device-token",
    "DELETE",
    policy=WRITE,
    summary="Revoke the screen's device token: its player gets 401 and pairs again",
)
def revoke_device(screen_id: int) -> None:
    db = get_session()
    joining.revoke_device(db, current_actor(), clock.now(), screen_id)
    db.commit()


class CommandIn(Strict):
    kind: Literal["refresh", "screenshot", "restart"]


class CommandOut(BaseModel):
    id: int
    screen_id: int
    kind: str
    issued_at: datetime
    acked_at: datetime | None
    ok: bool | None
    detail: str


@api.route(
    bp,
    "/screens/<int:screen_id>/commands",
    "POST",
    policy=WRITE,
    summary="Queue a command (refresh, screenshot, restart) for the screen's next poll",
    body=CommandIn,
    response=CommandOut,
    status=201,
)
def queue_command(screen_id: int, body: CommandIn) -> CommandOut:
    db, actor = get_session(), current_actor()
    screen = get_screen(db, actor, screen_id, Role.OPERATOR)
    command = fleet_commands.queue_command(db, screen, body.kind, clock.now(), actor.user_id)
    _audit(actor, "command", "screen", screen.id, screen.organisation_id, command=body.kind)
    db.commit()
    return CommandOut.model_validate(command, from_attributes=True)


@api.route(
    bp,
    "/screens/<int:screen_id>/commands",
    "GET",
    policy=READ,
    summary="The screen's latest commands, newest first",
    response=CommandOut,
    list_response=True,
)
def list_commands(screen_id: int) -> list[CommandOut]:
    db, actor = get_session(), current_actor()
    screen = get_screen(db, actor, screen_id, Role.VIEWER)
    rows = db.scalars(
        select(Command).where(Command.screen_id == screen.id).order_by(Command.id.desc()).limit(50)
    )
    return [CommandOut.model_validate(c, from_attributes=True) for c in rows]


@api.route(
    bp,
    "/screens/<int:screen_id>/screenshot",
    "GET",
    policy=READ,
    summary="The latest screenshot the screen's player sent",
    raw_response="image/jpeg",
)
def get_screenshot(screen_id: int) -> Response:
    db, actor = get_session(), current_actor()
    screen = get_screen(db, actor, screen_id, Role.VIEWER)
    shot = db.get(Screenshot, screen.id)
    store = storage.get_store()
    if shot is None or not store.exists(shot.sha256):
        raise NotFound(f"screen {screen_id} has sent no screenshot")
    response = send_file(
        store.open(shot.sha256),
        mimetype=shot.media_type,
        etag=shot.sha256,
        conditional=True,
        max_age=0,
        last_modified=shot.taken_at,
    )
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Signage-Screenshot-Taken-At"] = shot.taken_at.isoformat()
    return response


class FleetQuery(ListQuery):
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    state: Literal["online", "offline"] | None = None


class FleetScreenOut(BaseModel):
    id: int
    name: str
    organisation: str
    online: bool
    last_seen_at: datetime | None
    showing: str
    player_version: str
    paired: bool
    offline_since: datetime | None = Field(
        default=None, description="When an offline screen crossed the offline threshold"
    )


class FleetPage(Page[FleetScreenOut]):
    pass


SORT = {
    "id": Screen.id,
    "name": Screen.name,
    "last_seen_at": Screen.last_seen_at,
    "organisation": Organisation.path,
}


@api.route(
    bp,
    "/fleet",
    "GET",
    policy=READ,
    summary="Screens with their online state, last seen and what they show",
    query=FleetQuery,
    response=FleetPage,
)
def fleet(query: FleetQuery) -> dict[str, object]:
    db, actor = get_session(), current_actor()
    settings, now = _settings(), clock.now()
    stmt = select(Screen).join(Screen.organisation).where(in_scope(actor))
    if query.organisation_id is not None:
        org = org_or_404(db, actor, query.organisation_id)
        stmt = stmt.where(Organisation.path.startswith(org.path))
    if query.state is not None:
        cutoff = offline_cutoff(now, settings)
        seen = Screen.last_seen_at.is_not(None) & (Screen.last_seen_at >= cutoff)
        stmt = stmt.where(seen if query.state == "online" else ~seen)

    def shape(screen: Screen) -> FleetScreenOut:
        row = fleet_row(screen, screen.organisation.name, now, settings, asset_titles(db, [screen]))
        return FleetScreenOut(**asdict(row))

    return paginate(db, stmt, query, SORT, shape)
