"""Request and response shapes of the campaign and timeline routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from server.api.schemas import Id, ListQuery, Page, Patch, Strict, Tag
from server.campaigns.preview import MAX_SPAN

Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["07:30"])]
Weekday = Annotated[int, Field(ge=0, le=6, description="0 is Monday")]


class CampaignTargets(Strict):
    everyone: bool = Field(default=False, description="Every screen of the organisation's subtree")
    organisations: list[Id] = Field(default_factory=list, max_length=100)
    groups: list[Id] = Field(default_factory=list, max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    screens: list[Id] = Field(default_factory=list, max_length=1000)


class CampaignIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    organisation_id: Id
    description: str = Field(default="", max_length=10_000)
    timezone: str = Field(min_length=1, max_length=64, examples=["Asia/Shanghai"])
    start_date: date
    end_date: date
    targets: CampaignTargets = Field(default_factory=lambda: CampaignTargets(everyone=True))


class CampaignPatch(Patch):
    name: Annotated[str, Field(min_length=1, max_length=300)] | SkipJsonSchema[None] = None
    description: str | SkipJsonSchema[None] = Field(default=None, max_length=10_000)
    timezone: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=64)
    start_date: date | SkipJsonSchema[None] = None
    end_date: date | SkipJsonSchema[None] = None
    targets: CampaignTargets | SkipJsonSchema[None] = None


class DailyWindowIn(Strict):
    start: Clock
    end: Clock = Field(description="At or before start: the window crosses midnight")


class ScheduleEntryIn(Strict):
    playlist_id: Id = Field(description="The campaign's own playlist or a standalone one above")
    targets: CampaignTargets | None = Field(default=None, description="None: the campaign's")
    first_date: date | None = Field(default=None, description="None: the campaign's first day")
    last_date: date | None = None
    weekdays: list[Weekday] | None = Field(default=None, max_length=7)
    windows: list[DailyWindowIn] = Field(default_factory=list, max_length=24)
    interval_start: AwareDatetime | None = Field(default=None, description="An explicit span")
    interval_end: AwareDatetime | None = None
    screen_local: bool = Field(default=False, description="Wall-clock times in each screen's zone")
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    layer: Literal["normal", "takeover"] = "normal"


class ScheduleEntryPatch(Patch):
    NULLABLE = frozenset(
        {"targets", "first_date", "last_date", "weekdays", "interval_start", "interval_end"}
    )
    playlist_id: Id | SkipJsonSchema[None] = None
    targets: CampaignTargets | None = None
    first_date: date | None = None
    last_date: date | None = None
    weekdays: list[Weekday] | None = Field(default=None, max_length=7)
    windows: list[DailyWindowIn] | SkipJsonSchema[None] = Field(default=None, max_length=24)
    interval_start: AwareDatetime | None = None
    interval_end: AwareDatetime | None = None
    screen_local: bool | SkipJsonSchema[None] = None
    priority: int | SkipJsonSchema[None] = Field(default=None, ge=-1_000_000, le=1_000_000)
    layer: Literal["normal", "takeover"] | SkipJsonSchema[None] = None


class ScheduleEntryOut(BaseModel):
    id: int
    position: int
    playlist_id: int
    playlist: str
    targets: dict[str, object] = Field(description="Empty: the campaign's targets")
    first_date: date | None
    last_date: date | None
    weekdays: list[int] | None
    windows: list[list[str]]
    interval_start: datetime | None
    interval_end: datetime | None
    screen_local: bool
    priority: int
    layer: str


class CampaignSummary(BaseModel):
    id: int
    organisation_id: int
    name: str
    description: str
    timezone: str
    start_date: date
    end_date: date
    targets: dict[str, object]
    status: str
    live: bool = Field(description="A publication of it is on screens (or about to be)")
    submitted_by_id: int | None
    approved_by_id: int | None
    draft_reason: str = Field(
        default="", description="Why the campaign last went back to draft (empty: never did)"
    )
    published_at: datetime | None
    effective_at: datetime | None
    created_at: datetime
    updated_at: datetime


class CampaignOut(CampaignSummary):
    entries: list[ScheduleEntryOut]


class CampaignList(Page[CampaignSummary]):
    pass


class CampaignQuery(ListQuery):
    organisation_id: Id | None = None
    status: Literal["draft", "submitted", "approved", "published", "archived"] | None = None
    name: str | None = Field(default=None, max_length=300, description="Substring of the name")


class PublishQuery(Strict):
    immediate: bool = Field(
        default=False, description="Start at once (campaigns of takeover entries only)"
    )


class SendBackIn(Strict):
    comment: str = Field(
        min_length=1,
        max_length=300,
        description="Why the campaign goes back to draft: the operator reads it",
    )


class TimelineQuery(Strict):
    start: AwareDatetime = Field(alias="from", description="With its offset, e.g. +08:00")
    end: AwareDatetime = Field(alias="to", description=f"At most {MAX_SPAN.days} days after from")


class TimelineScreen(BaseModel):
    id: int
    name: str
    organisation: str
    timezone: str


class TimelineRule(BaseModel):
    id: str
    campaign: str | None
    campaign_id: int | None
    entry: int | None = Field(description="Index into the campaign's schedule")
    playlist: str
    description: str
    priority: int
    layer: str
    specificity: str = Field(
        description="How it names the screen: screen, group, tag, organisation or all"
    )
    lost_on: str | None = Field(
        default=None, description="On a beaten rule: the step at which the winner beat it"
    )


class TimelineItem(BaseModel):
    index: int
    asset_id: int
    sha256: str
    kind: str
    title: str
    duration_ms: int
    fit: str
    transition: str


class TimelineSegment(BaseModel):
    start: datetime
    end: datetime
    anchor: datetime = Field(description="Rotation is counted from here")
    playlist: str | None = Field(description="None: nothing scheduled, the idle card")
    playlist_key: str | None
    campaign: str | None
    default: bool = Field(description="The organisation's default playlist: no rule matched")
    rule: TimelineRule | None = Field(description="The rule that won")
    beaten: list[TimelineRule] = Field(description="Rules that matched and lost, best first")
    conflict: bool = Field(description="The winner tied on layer, priority and target")
    items: list[TimelineItem]
    why: str | None = Field(
        default=None,
        description="Why the rule won: takeover, priority, specificity, most recent publish,"
        " rule id (a tie), or only rule",
    )


class TimelineOut(BaseModel):
    screen: TimelineScreen
    start: datetime
    end: datetime
    content_version: int
    segments: list[TimelineSegment]
