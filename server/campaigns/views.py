"""Campaigns: their schedule entries, the publishing workflow, and screen timelines."""

from __future__ import annotations

from flask import Blueprint, current_app

from server import clock
from server.accounts.models import Role
from server.api.registry import api
from server.api.schemas import Patch, Strict, paginate
from server.auth.policy import APPROVE, READ, WRITE, current_actor
from server.campaigns import services as crud
from server.campaigns import workflow
from server.campaigns.models import Campaign, ScheduleEntry
from server.campaigns.preview import screen_timeline, to_json
from server.campaigns.schemas import (
    CampaignIn,
    CampaignList,
    CampaignOut,
    CampaignPatch,
    CampaignQuery,
    CampaignSummary,
    PublishQuery,
    ScheduleEntryIn,
    ScheduleEntryOut,
    ScheduleEntryPatch,
    SendBackIn,
    TimelineOut,
    TimelineQuery,
)
from server.config import Settings
from server.db import MAX_ID, get_session
from server.errors import NotFound
from server.screens.models import Screen

bp = Blueprint("campaigns", __name__)
WORKFLOW = {409: "The campaign is not in a state that allows this step"}

SORT = {
    "id": Campaign.id,
    "name": Campaign.name,
    "start_date": Campaign.start_date,
    "updated_at": Campaign.updated_at,
}


def _entry_out(e: ScheduleEntry) -> ScheduleEntryOut:
    return ScheduleEntryOut(
        id=e.id,
        position=e.position,
        playlist_id=e.playlist_id,
        playlist=e.playlist.name,
        targets=e.targets or {},
        first_date=e.first_date,
        last_date=e.last_date,
        weekdays=e.weekdays,
        windows=[list(w) for w in e.windows or ()],
        interval_start=e.interval_start,
        interval_end=e.interval_end,
        screen_local=e.screen_local,
        priority=e.priority,
        layer=e.layer,
    )


def _summary(c: Campaign) -> CampaignSummary:
    return CampaignSummary(
        id=c.id,
        organisation_id=c.organisation_id,
        name=c.name,
        description=c.description,
        timezone=c.timezone,
        start_date=c.start_date,
        end_date=c.end_date,
        targets=c.targets or {},
        status=c.status.value,
        live=workflow.is_live(get_session(), c.id),
        submitted_by_id=c.submitted_by_id,
        approved_by_id=c.approved_by_id,
        draft_reason=c.draft_reason or "",
        published_at=c.published_at,
        effective_at=c.effective_at,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


def _out(c: Campaign) -> CampaignOut:
    return CampaignOut(**_summary(c).model_dump(), entries=[_entry_out(e) for e in c.entries])


def _entry_values(body: Strict) -> dict[str, object]:
    values = body.changes() if isinstance(body, Patch) else body.model_dump()
    if "windows" in values and values["windows"] is not None:
        values["windows"] = [(w["start"], w["end"]) for w in body.model_dump()["windows"]]
    if "targets" in values:
        t = getattr(body, "targets", None)
        values["targets"] = t.model_dump() if t is not None else {}
    return values


@api.route(
    bp,
    "/campaigns",
    "GET",
    policy=READ,
    summary="List campaigns",
    query=CampaignQuery,
    response=CampaignList,
)
def list_campaigns(query: CampaignQuery) -> dict[str, object]:
    filters = crud.CampaignFilter(query.organisation_id, query.status, query.name)
    stmt = crud.campaigns_select(current_actor(), filters)
    return paginate(get_session(), stmt, query, SORT, _summary)


@api.route(
    bp,
    "/campaigns/<int:campaign_id>",
    "GET",
    policy=READ,
    summary="Get a campaign",
    response=CampaignOut,
)
def get_campaign(campaign_id: int) -> CampaignOut:
    return _out(crud.get_campaign(get_session(), current_actor(), campaign_id))


@api.route(
    bp,
    "/campaigns",
    "POST",
    policy=WRITE,
    summary="Create a draft campaign",
    body=CampaignIn,
    response=CampaignOut,
    status=201,
    extra_responses={409: "A campaign of that name exists in the organisation"},
)
def create_campaign(body: CampaignIn) -> CampaignOut:
    db = get_session()
    values = body.model_dump()
    campaign = crud.create_campaign(db, current_actor(), clock.now(), values)
    db.commit()
    return _out(campaign)


@api.route(
    bp,
    "/campaigns/<int:campaign_id>",
    "PATCH",
    policy=WRITE,
    summary="Edit a campaign (it becomes a draft again)",
    body=CampaignPatch,
    response=CampaignOut,
    extra_responses={409: "A campaign of that name exists in the organisation"},
)
def update_campaign(campaign_id: int, body: CampaignPatch) -> CampaignOut:
    db = get_session()
    changes = body.changes()
    if "targets" in changes:
        changes["targets"] = body.targets.model_dump() if body.targets else {}
    campaign = crud.update_campaign(db, current_actor(), clock.now(), campaign_id, changes)
    db.commit()
    return _out(campaign)


@api.route(
    bp,
    "/campaigns/<int:campaign_id>",
    "DELETE",
    policy=WRITE,
    summary="Delete a campaign that is not on screens",
    extra_responses={409: "The campaign is published: archive it first"},
)
def delete_campaign(campaign_id: int) -> None:
    db = get_session()
    crud.delete_campaign(db, current_actor(), clock.now(), campaign_id)
    db.commit()


@api.route(
    bp,
    "/campaigns/<int:campaign_id>/entries",
    "POST",
    policy=WRITE,
    summary="Add a schedule entry (the campaign becomes a draft again)",
    body=ScheduleEntryIn,
    response=ScheduleEntryOut,
    status=201,
)
def add_entry(campaign_id: int, body: ScheduleEntryIn) -> ScheduleEntryOut:
    db = get_session()
    entry = crud.add_entry(db, current_actor(), clock.now(), campaign_id, _entry_values(body))
    db.commit()
    return _entry_out(entry)


@api.route(
    bp,
    "/campaigns/<int:campaign_id>/entries/<int:entry_id>",
    "PATCH",
    policy=WRITE,
    summary="Edit a schedule entry (the campaign becomes a draft again)",
    body=ScheduleEntryPatch,
    response=ScheduleEntryOut,
)
def update_entry(campaign_id: int, entry_id: int, body: ScheduleEntryPatch) -> ScheduleEntryOut:
    db = get_session()
    values = _entry_values(body)
    entry = crud.update_entry(db, current_actor(), clock.now(), campaign_id, entry_id, values)
    db.commit()
    return _entry_out(entry)


@api.route(
    bp,
    "/campaigns/<int:campaign_id>/entries/<int:entry_id>",
    "DELETE",
    policy=WRITE,
    summary="Remove a schedule entry (the campaign becomes a draft again)",
)
def delete_entry(campaign_id: int, entry_id: int) -> None:
    db = get_session()
    crud.delete_entry(db, current_actor(), clock.now(), campaign_id, entry_id)
    db.commit()


def _settings() -> Settings:
    settings: Settings = current_app.config["SIGNAGE"]
    return settings


@api.route(
    bp,
    "/campaigns/<int:campaign_id>/submit",
    "POST",
    policy=WRITE,
    summary="Submit a draft for approval",
    response=CampaignOut,
    extra_responses=WORKFLOW,
)
def submit(campaign_id: int) -> CampaignOut:
    db, actor = get_session(), current_actor()
    campaign = crud.get_campaign(db, actor, campaign_id, Role.OPERATOR)
    workflow.submit(db, campaign, actor, clock.now())
    db.commit()
    return _out(campaign)


@api.route(
    bp,
    "/campaigns/<int:campaign_id>/approve",
    "POST",
    policy=APPROVE,
    summary="Approve a submitted campaign (not your own submission)",
    response=CampaignOut,
    extra_responses=WORKFLOW,
)
def approve(campaign_id: int) -> CampaignOut:
    db, actor = get_session(), current_actor()
    campaign = crud.get_campaign(db, actor, campaign_id, Role.APPROVER)
    workflow.approve(db, campaign, actor, clock.now())
    db.commit()
    return _out(campaign)


@api.route(
    bp,
    "/campaigns/<int:campaign_id>/send-back",
    "POST",
    policy=APPROVE,
    summary="Send a submitted or approved campaign back to draft, with a comment",
    body=SendBackIn,
    response=CampaignOut,
    extra_responses=WORKFLOW,
)
def send_back(campaign_id: int, body: SendBackIn) -> CampaignOut:
    db, actor = get_session(), current_actor()
    campaign = crud.get_campaign(db, actor, campaign_id, Role.APPROVER)
    workflow.send_back(db, campaign, actor, clock.now(), body.comment)
    db.commit()
    return _out(campaign)


@api.route(
    bp,
    "/campaigns/<int:campaign_id>/publish",
    "POST",
    policy=APPROVE,
    summary="Publish an approved campaign (approvers may publish a draft directly)",
    query=PublishQuery,
    response=CampaignOut,
    extra_responses=WORKFLOW,
)
def publish(campaign_id: int, query: PublishQuery) -> CampaignOut:
    db, actor = get_session(), current_actor()
    campaign = crud.get_campaign(db, actor, campaign_id, Role.APPROVER)
    workflow.publish(db, campaign, actor, clock.now(), _settings(), immediate=query.immediate)
    db.commit()
    return _out(campaign)


@api.route(
    bp,
    "/campaigns/<int:campaign_id>/archive",
    "POST",
    policy=APPROVE,
    summary="Archive a campaign, taking it off screens at the next effective instant",
    response=CampaignOut,
    extra_responses=WORKFLOW,
)
def archive(campaign_id: int) -> CampaignOut:
    db, actor = get_session(), current_actor()
    campaign = crud.get_campaign(db, actor, campaign_id, Role.APPROVER)
    workflow.archive(db, campaign, actor, clock.now(), _settings())
    db.commit()
    return _out(campaign)


@api.route(
    bp,
    "/screens/<int:screen_id>/timeline",
    "GET",
    policy=READ,
    summary="What a screen plays over an interval, and why",
    query=TimelineQuery,
    response=TimelineOut,
)
def timeline(screen_id: int, query: TimelineQuery) -> TimelineOut:
    db, actor = get_session(), current_actor()
    screen = db.get(Screen, screen_id) if 0 < screen_id <= MAX_ID else None
    if screen is None or not actor.sees(screen.organisation.path):
        raise NotFound(f"no screen {screen_id}")
    result = screen_timeline(db, screen, query.start, query.end, clock.now())
    return TimelineOut.model_validate(to_json(result))
