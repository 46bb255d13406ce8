"""Checks on rules and screens, so callers can reject bad input before it is scheduled."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import NamedTuple

from server.scheduling.errors import InvalidSchedule
from server.scheduling.localtime import MAX_YEAR, MIN_YEAR, check_zone, instant_problem
from server.scheduling.rules import Rule, ScreenFacts


class RuleProblem(NamedTuple):
    """One thing wrong with a rule: the field (`windows[1].start`) and why."""

    field: str
    reason: str


def check_rule(rule: Rule) -> list[RuleProblem]:
    """Everything wrong with `rule`; an empty list means the engine accepts it."""
    problems: list[RuleProblem] = []

    def bad(field: str, reason: str | None) -> None:
        if reason is not None:
            problems.append(RuleProblem(field, reason))

    bad("id", None if isinstance(rule.id, str) and rule.id else "must be a non-empty string")
    bad(
        "playlist",
        None if isinstance(rule.playlist, str) and rule.playlist else "must be a non-empty string",
    )
    bad("first_date", _date_problem(rule.first_date))
    bad("last_date", _date_problem(rule.last_date))
    dates_ok = _date_problem(rule.first_date) is None and _date_problem(rule.last_date) is None
    if dates_ok and rule.last_date < rule.first_date:
        bad("last_date", "is before first_date")
    if rule.timezone is not None:
        bad("timezone", check_zone(rule.timezone))
    if rule.weekdays is not None:
        if not rule.weekdays:
            bad("weekdays", "is empty: the rule would never play (use None for every day)")
        elif not all(isinstance(d, int) and 0 <= d <= 6 for d in rule.weekdays):
            bad("weekdays", "must hold weekday numbers 0 (Monday) to 6 (Sunday)")
    for i, window in enumerate(rule.windows):
        for name in ("start", "end"):
            value = getattr(window, name, None)
            if not isinstance(value, time) or value.tzinfo is not None:
                bad(f"windows[{i}].{name}", "must be a wall-clock time without a zone")
    if rule.interval is not None:
        start, end = rule.interval
        bad("interval.start", instant_problem(start))
        bad("interval.end", instant_problem(end))
        if instant_problem(start) is None and instant_problem(end) is None and end <= start:
            bad("interval.end", "must be after interval.start")
    for name in ("published_at", "live_from", "live_until"):
        value = getattr(rule, name)
        if value is not None:
            bad(name, instant_problem(value))
    if (
        rule.live_from is not None
        and rule.live_until is not None
        and instant_problem(rule.live_from) is None
        and instant_problem(rule.live_until) is None
        and rule.live_until <= rule.live_from
    ):
        bad("live_until", "must be after live_from")
    if isinstance(rule.priority, bool) or not isinstance(rule.priority, int):
        bad("priority", "must be an integer")
    if rule.layer not in (0, 1):
        bad("layer", "must be normal or takeover")
    return problems


def require_rules(rules: tuple[Rule, ...]) -> None:
    """Raise InvalidSchedule for the first bad rule or a repeated rule id."""
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if not isinstance(rule, Rule):
            raise InvalidSchedule(f"rules[{i}]", "is not a Rule")
        problems = check_rule(rule)
        if problems:
            field, reason = problems[0]
            raise InvalidSchedule(f"rules[{i}].{field}", f"{reason} (rule {rule.id!r})")
        if rule.id in seen:
            raise InvalidSchedule(f"rules[{i}].id", f"rule id {rule.id!r} is used twice")
        seen.add(rule.id)


def in_utc(rule: Rule) -> Rule:
    """`rule` with every instant in UTC, so comparisons never fall into the same-zone trap."""
    interval = rule.interval
    instants = (rule.published_at, rule.live_from, rule.live_until, *(interval or ()))
    if all(value is None or value.tzinfo is UTC for value in instants):
        return rule  # the common case, and replace() is slow
    if interval is not None:
        interval = (interval[0].astimezone(UTC), interval[1].astimezone(UTC))
    return replace(
        rule,
        interval=interval,
        published_at=_utc(rule.published_at),
        live_from=_utc(rule.live_from),
        live_until=_utc(rule.live_until),
    )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def require_screen(screen: ScreenFacts) -> None:
    """Raise InvalidSchedule when the engine cannot place `screen` in time."""
    if not isinstance(screen, ScreenFacts):
        raise InvalidSchedule("screen", "is not a ScreenFacts")
    problem = check_zone(screen.timezone)
    if problem is not None:
        raise InvalidSchedule("screen.timezone", problem)


def _date_problem(value: object) -> str | None:
    if not isinstance(value, date) or isinstance(value, datetime):
        return "must be a date"
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return f"must lie between the years {MIN_YEAR} and {MAX_YEAR}"
    return None
