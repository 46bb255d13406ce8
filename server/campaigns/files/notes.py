"""Notes that save a week: things a campaign file may well not mean, told in `check` and
`plan` next to its lines. Notes are not problems: they never change the exit status.

- every date of the campaign is in the past, or it starts more than a year from now (the
  wrong year typed once and copied everywhere);
- an entry of this campaign takes over a theme day (a one-day entry) of a parent
  organisation's campaign on some of its screens;
- on some day of the campaign, some of the screens it targets get nothing from it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.accounts.models import Organisation
from server.campaigns.files.scene import Scene
from server.campaigns.files.schema import CampaignSpec, format_date_range
from server.campaigns.files.state import CampaignState
from server.scheduling import Rule, Schedule, ScreenFacts, day_start, specificity

AHEAD = timedelta(days=366)
SHOWN_SCREENS = 3


@dataclass(frozen=True)
class Note:
    kind: str  # "dates", "theme-day", "empty-day"
    line: int | None
    field: str
    message: str

    def render(self, filename: str) -> str:
        where = f"{filename}:{self.line}: " if self.line else f"{filename}: "
        return f"note: {where}{self.field}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "line": self.line, "field": self.field, "message": self.message}


def date_notes(
    start: date, end: date, timezone: str, now: datetime, spec: CampaignSpec | None
) -> list[Note]:
    """All dates in the past, or the first more than a year ahead (in the campaign's zone)."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    line = spec.lines.get("dates") if spec else None
    shown = format_date_range(start, end)
    if end < today:
        return [
            Note("dates", line, "dates", f"every date ({shown}) is in the past: is the year right?")
        ]
    if start > today + AHEAD:
        return [
            Note(
                "dates",
                line,
                "dates",
                f"starts more than a year from now ({shown}): is the year right?",
            )
        ]
    return []


def _names(names: Iterable[str]) -> str:
    listed = sorted(names)
    shown = ", ".join(listed[:SHOWN_SCREENS])
    more = len(listed) - SHOWN_SCREENS
    return shown + (f" and {more} more" if more > 0 else "")


def _screens(n: int) -> str:
    return f"{n} screen{'s' if n != 1 else ''}"


def _days(days: Iterable[date]) -> str:
    return ", ".join(d.isoformat() for d in sorted(days))


def _entry_index(rule_id: str) -> int:
    return int(rule_id.rsplit(".e", 1)[1])


def _entry_line(spec: CampaignSpec | None, index: int) -> int | None:
    if spec is None or index >= len(spec.entries):
        return None
    return spec.entries[index].line or None


def _local_days(start: datetime, end: datetime, tz: ZoneInfo) -> set[date]:
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def _by_key(schedule: Schedule, facts: list[ScreenFacts]) -> dict[Any, list[ScreenFacts]]:
    out: dict[Any, list[ScreenFacts]] = defaultdict(list)
    for f in facts:
        out[schedule.screen_key(f)].append(f)
    return out


def theme_day_notes(
    scene: Scene, state: CampaignState, org: Organisation, spec: CampaignSpec | None
) -> list[Note]:
    """This campaign's entries that win over a parent organisation's one-day entries."""
    parents = set(org.ancestor_ids) - {org.id}
    mine = {r.id for r in scene.mine}
    theirs = {
        r.id: r for r in scene.others if r.owner_org in parents and r.first_date == r.last_date
    }
    if not mine or not theirs or not scene.facts:
        return []
    names = {s.id: s.name for s in scene.screens}
    tz = ZoneInfo(state.timezone)
    schedule = Schedule([*scene.mine, *scene.others])
    found: dict[tuple[str, str], tuple[set[str], set[date]]] = {}
    for group in _by_key(schedule, scene.facts).values():
        for seg in schedule.timeline(group[0], scene.start, scene.end):
            if seg.rule not in mine:
                continue
            for beaten in seg.beaten:
                if beaten in theirs:
                    screens, days = found.setdefault((seg.rule, beaten), (set(), set()))
                    screens.update(names[f.id] for f in group)
                    days.update(_local_days(seg.start, seg.end, tz))
    notes = []
    for (rule_id, beaten), (screens, days) in sorted(found.items()):
        index = _entry_index(rule_id)
        notes.append(
            Note(
                "theme-day",
                _entry_line(spec, index),
                f"schedule[{index}]",
                f"takes over {scene.label.get(beaten, beaten)}, a parent organisation's theme"
                f" day, on {_screens(len(screens))} ({_names(screens)}) on {_days(days)}",
            )
        )
    return notes


def _targeted(rules: list[Rule], facts: list[ScreenFacts]) -> list[ScreenFacts]:
    return [f for f in facts if any(specificity(r, f) is not None for r in rules)]


def empty_day_notes(scene: Scene, state: CampaignState, spec: CampaignSpec | None) -> list[Note]:
    """Days of the campaign on which some of the screens it targets get nothing from it."""
    targeted = _targeted(scene.mine, scene.facts)
    if not targeted:
        return []
    tz = ZoneInfo(state.timezone)
    start = day_start(state.start_date, tz)
    end = day_start(state.end_date + timedelta(days=1), tz)
    every_day = _local_days(start, end, tz)
    names = {s.id: s.name for s in scene.screens}
    schedule = Schedule(scene.mine)
    missing: dict[frozenset[date], set[str]] = defaultdict(set)
    for group in _by_key(schedule, targeted).values():
        played: set[date] = set()
        for seg in schedule.timeline(group[0], start, end):
            if seg.rule is not None:
                played |= _local_days(seg.start, seg.end, tz)
        empty = frozenset(every_day - played)
        if empty:
            missing[empty].update(names[f.id] for f in group)
    line = spec.lines.get("schedule") if spec else None
    return [
        Note(
            "empty-day",
            line,
            "schedule",
            f"on {_days(days)} nothing of this campaign plays on {len(screens)} of the"
            f" {_screens(len(targeted))} it targets ({_names(screens)})",
        )
        for days, screens in sorted(missing.items(), key=lambda kv: sorted(kv[0]))
    ]


def campaign_notes(
    scene: Scene, state: CampaignState, org: Organisation, spec: CampaignSpec | None, now: datetime
) -> list[Note]:
    return [
        *date_notes(state.start_date, state.end_date, state.timezone, now, spec),
        *theme_day_notes(scene, state, org, spec),
        *empty_day_notes(scene, state, spec),
    ]
