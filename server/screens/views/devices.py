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
from server.auth.actors import ROLE_RANK, Actor
from server.auth.policy import ADMIN, READ, WRITE, client_address, current_actor
from server.auth.scope import in_scope
from server.config import Settings
from server.db import MAX_ID, get_session
from server.errors import FieldError, NotFound, ValidationFailed
from server.screens import commands as fleet_commands
from server.screens import joining
from server.screens.devices import revoke_device_token
from server.screens.enrolment import issue_enrolment_token, revoke_enrolment_token
from server.screens.models import Command, EnrolmentToken, Screen, Screenshot
from server.screens.pairing import claim
from server.screens.services import get_screen, offline_cutoff
from server.screens.status import fleet_row

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
    timezone: str = Field(default="UTC", max_length=64)


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
    org: Organisation | None = None
    if body.organisation_id is not None:
        org = org_or_404(db, actor, body.organisation_id)
        actor.require(org.path, Role.OPERATOR)
    if body.replace_screen_id is not None:
        target = get_screen(db, actor, body.replace_screen_id, Role.OPERATOR)
        if org is not None and org.id != target.organisation_id:
            raise ValidationFailed(
                "a replacement stays in its screen's organisation",
                [FieldError("organisation_id", "is not the replaced screen's organisation")],
            )
        org_key = str(target.organisation_id)
    else:
        org_key = str(body.organisation_id)
    by_org, by_address = joining.claim_limits(_settings())
    address = client_address()
    limits.check(db, by_org, org_key, now)
    limits.check(db, by_address, address, now)

    def may_manage(screen: Screen) -> bool:
        role = actor.role_in(screen.organisation.path)
        return role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.OPERATOR]

    try:
        screen, replaced = claim(
            db,
            code=body.code,
            organisation=org,
            name=body.name,
            group_ids=body.group_ids,
            timezone=body.timezone,
            now=now,
            may_manage=may_manage,
            replace_screen_id=body.replace_screen_id,
        )
    except NotFound as exc:
        if any(e.field == "code" for e in exc.errors):  # a wrong code: it counts
            db.rollback()
            limits.hit(db, by_org, org_key, now)
            limits.hit(db, by_address, address, now)
            db.commit()
        raise
    code = body.code.upper()
    if replaced:
        _audit(
            actor,
            "replace_device",
            "screen",
            screen.id,
            screen.organisation_id,
            code=code,
            hardware_id=screen.hardware_id,
            device_key=screen.device_key,
            old_device="token revoked",
        )
    else:
        org_id = screen.organisation_id
        _audit(actor, "claim", "screen", screen.id, org_id, name=screen.name, code=code)
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
    timezone: str = Field(default="UTC", max_length=64)
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
    db, actor = get_session(), current_actor()
    org = org_or_404(db, actor, org_id)
    actor.require(org.path, Role.ADMIN)
    row, clear = issue_enrolment_token(
        db,
        org,
        expires_at=body.expires_at,
        max_uses=body.max_uses,
        group_ids=body.group_ids,
        timezone=body.timezone,
        name=body.name,
        now=clock.now(),
        created_by_id=actor.user_id,
    )
    _audit(actor, "create", "enrolment_token", row.id, org.id, name=row.name, uses=row.max_uses)
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
    db, actor = get_session(), current_actor()
    org = org_or_404(db, actor, org_id)
    actor.require(org.path, Role.ADMIN)
    rows = db.scalars(
        select(EnrolmentToken)
        .where(EnrolmentToken.organisation_id == org.id)
        .order_by(EnrolmentToken.id)
    )
    return [_token_out(r) for r in rows]


@api.route(
    bp,
    "/enrolment-tokens/<int:token_id>",
    "DELETE",
    policy=ADMIN,
    summary="Revoke an enrolment token (screens that joined with it stay)",
)
def revoke_enrolment(token_id: int) -> None:
    db, actor = get_session(), current_actor()
    row = db.get(EnrolmentToken, token_id) if token_id <= MAX_ID else None
    org = db.get(Organisation, row.organisation_id) if row is not None else None
    if row is None or org is None or not actor.sees(org.path):
        raise NotFound(f"no enrolment token {token_id}")
    actor.require(org.path, Role.ADMIN)
    revoke_enrolment_token(row, clock.now())
    _audit(actor, "revoke", "enrolment_token", row.id, org.id)
    db.commit()


@api.route(
    bp,
    "/screens/<int:screen_id>/device-token",
    "DELETE",
    policy=WRITE,
    summary="Revoke the screen's device token: its player gets 401 and pairs again",
)
def revoke_device(screen_id: int) -> None:
    db, actor = get_session(), current_actor()
    screen = get_screen(db, actor, screen_id, Role.OPERATOR)
    revoke_device_token(db, screen.id)
    _audit(actor, "revoke", "device_token", screen.id, screen.organisation_id)
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
        row = fleet_row(screen, screen.organisation.name, now, settings)
        return FleetScreenOut(**asdict(row))

    return paginate(db, stmt, query, SORT, shape)
