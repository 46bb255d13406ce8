"""The pure scheduling engine: rules and instants in, timelines out.

Imports nothing of Flask, the database or the rest of the project, and never reads the
clock. See docs/scheduling.md for the resolution order, DST rules and anchors.
"""

from server.scheduling.conflicts import find_conflicts
from server.scheduling.errors import InvalidSchedule
from server.scheduling.localtime import check_zone, day_containing, day_start, zone
from server.scheduling.matching import specificity, why_first
from server.scheduling.occurrences import Occurrence, occurrences
from server.scheduling.resolve import Ranked, Schedule, resolve, screen_key, timeline
from server.scheduling.rotation import Rotation, item_at
from server.scheduling.rules import (
    DailyWindow,
    Layer,
    Resolution,
    Rule,
    RuleConflict,
    ScreenFacts,
    Segment,
    Specificity,
    Targets,
    WinReason,
)
from server.scheduling.validate import RuleProblem, check_rule

__all__ = [
    "RuleConflict",
    "DailyWindow",
    "InvalidSchedule",
    "Layer",
    "Occurrence",
    "Ranked",
    "Resolution",
    "Rotation",
    "Rule",
    "RuleProblem",
    "Schedule",
    "ScreenFacts",
    "Segment",
    "Specificity",
    "Targets",
    "WinReason",
    "check_rule",
    "check_zone",
    "day_containing",
    "day_start",
    "find_conflicts",
    "item_at",
    "occurrences",
    "resolve",
    "screen_key",
    "specificity",
    "timeline",
    "why_first",
    "zone",
]
