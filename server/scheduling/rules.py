"""The engine's vocabulary: schedule rules, the facts of one screen, and what resolution returns.

Everything here is an immutable value. Nothing in `server.scheduling` imports Flask, the
database, or reads the wall clock: rules and instants go in, timelines come out.
All datetimes are timezone-aware; results are in UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time


class Layer(enum.IntEnum):
    """Takeover beats everything on the normal layer, whatever the priority."""

    NORMAL = 0
    TAKEOVER = 1


class Specificity(enum.IntEnum):
    """How precisely a rule names a screen; higher wins a tie on layer and priority."""

    ALL = 0
    ORGANISATION = 1
    TAG = 2
    GROUP = 3
    SCREEN = 4


class WinReason(enum.StrEnum):
    """The step of the resolution order that decided between two rules."""

    TAKEOVER = "takeover"
    PRIORITY = "priority"
    SPECIFICITY = "specificity"
    RECENT_PUBLISH = "most recent publish"
    RULE_ID = "rule id"  # a tie on everything else: a conflict


@dataclass(frozen=True)
class Targets:
    """Which screens a rule reaches, always inside the owning organisation's subtree.

    `everyone` means every screen of that subtree; otherwise a screen matches when it is
    listed, is in a listed group (nested membership counts), carries a listed tag, or
    belongs to a listed organisation or one of its descendants.
    """

    everyone: bool = False
    organisations: frozenset[int] = frozenset()
    groups: frozenset[int] = frozenset()
    tags: frozenset[str] = frozenset()
    screens: frozenset[int] = frozenset()


@dataclass(frozen=True)
class DailyWindow:
    """A wall-clock window repeated every matching day; `end <= start` crosses midnight."""

    start: time
    end: time


@dataclass(frozen=True)
class Rule:
    """One schedule entry, as the engine sees it.

    Recurrence: every date in [first_date, last_date] whose weekday (Mon=0) is in
    `weekdays` (None = every day), during each of `windows` (empty = the whole day).
    Alternatively `interval` names one explicit [start, end) and the recurrence fields
    are ignored. Wall-clock fields are read in `timezone`, or in the screen's own zone
    when `timezone` is None ("screen-local").

    `live_from`/`live_until` clip the rule to when its publication is in force, so a
    publish announced for a future instant takes effect exactly then.
    """

    id: str
    playlist: str
    owner_org: int
    targets: Targets
    first_date: date
    last_date: date
    timezone: str | None = None
    weekdays: frozenset[int] | None = None
    windows: tuple[DailyWindow, ...] = ()
    interval: tuple[datetime, datetime] | None = None
    priority: int = 0
    layer: Layer = Layer.NORMAL
    published_at: datetime | None = None
    live_from: datetime | None = None
    live_until: datetime | None = None
    campaign: str | None = None


@dataclass(frozen=True)
class ScreenFacts:
    """What the engine needs to know about one screen.

    `org_path` runs from the root organisation to the screen's own; `groups` already
    includes every ancestor group of the groups the screen is in.
    """

    id: int
    org_path: tuple[int, ...]
    timezone: str
    groups: frozenset[int] = frozenset()
    tags: frozenset[str] = frozenset()
    default_playlist: str | None = None


@dataclass(frozen=True)
class Segment:
    """A stretch [start, end) during which one answer holds.

    `rule` is None when the default playlist (or nothing, `playlist` None) applies.
    `anchor` is the start of the winning rule's current occurrence: the instant from which
    rotation is counted, identical on every screen the occurrence reaches.
    `beaten` lists the ids of rules that matched but lost, best first.
    """

    start: datetime
    end: datetime
    playlist: str | None
    rule: str | None
    anchor: datetime
    beaten: tuple[str, ...] = ()
    conflict: bool = False


@dataclass(frozen=True)
class Resolution:
    """The answer at one instant and the next instant at which it may change."""

    segment: Segment
    next_change: datetime


@dataclass(frozen=True)
class RuleConflict:
    """Rules that tied on layer, priority and specificity for a screen over [start, end)."""

    screen: int
    start: datetime
    end: datetime
    rules: tuple[str, ...]
    winner: str
    detail: str = field(default="")
