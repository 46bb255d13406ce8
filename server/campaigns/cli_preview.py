"""`signage preview`: what a screen plays at an instant or over a time, and why."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import click

from server.campaigns.cli import ORG
from server.campaigns.files.schema import format_duration
from server.campaigns.preview import (
    AtInstant,
    PreviewSegment,
    RuleInfo,
    Timeline,
    find_screen,
    screen_at,
    screen_timeline,
    to_json,
)
from server.cli import friendly, now, reading
from server.errors import FieldError, ValidationFailed


def _instant(value: str, field: str, tz: ZoneInfo) -> datetime:
    """An instant; without a UTC offset it is read in the screen's zone `tz`, and said so."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"{value!r} is not a date and time", [FieldError(field, "e.g. 2022-09-07T10:00+08:00")]
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
        click.echo(
            f"note: {field} {value!r} has no UTC offset: read in the screen's time zone,"
            f" {tz.key} ({parsed.strftime('%z')})",
            err=True,
        )
    return parsed


def _local(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S%z")


def _rule(rule: RuleInfo) -> str:
    where = f"campaign {rule.campaign!r}" if rule.campaign else "a rule"
    entry = f" schedule[{rule.entry}]" if rule.entry is not None else ""
    return f"{where}{entry}: {rule.description or 'play ' + rule.playlist} [{rule.id}]"


def why_text(won: RuleInfo, why: str | None, beaten: RuleInfo | None) -> str:
    """Why `won` won, in words: the step of the resolution order that decided."""
    if why == "only rule" or beaten is None:
        return f"the only rule for this screen (it names it by {won.specificity})"
    if why == "takeover":
        return "takeover: a takeover beats every rule on the normal layer"
    if why == "priority":
        return f"priority: {won.priority} beats {beaten.priority}"
    if why == "specificity":
        return f"specificity: a {won.specificity} target beats {beaten.specificity!r}"
    if why == "most recent publish":
        return "most recent publish: equal on layer, priority and target; published later"
    return "rule id: a tie on everything else (a conflict); the lower rule id wins"


def _segment_lines(seg: PreviewSegment, tz: ZoneInfo, items: bool) -> list[str]:
    if seg.playlist is None:
        head = "nothing scheduled: the idle card"
    elif seg.default:
        head = f"playlist {seg.playlist!r} (the organisation's default playlist; no rule matches)"
    else:
        head = f"playlist {seg.playlist!r} of campaign {seg.campaign!r}"
    lines = [head]
    if seg.rule is not None:
        lines.append(f"  won by   {_rule(seg.rule)}")
        first = seg.beaten[0] if seg.beaten else None
        lines.append(f"  why      {why_text(seg.rule, seg.why, first)}")
    for beaten in seg.beaten:
        lines.append(f"  beating  {_rule(beaten)} (lost on {beaten.lost_on})")
    if seg.conflict:
        lines.append("  conflict: rules tie on layer, priority and target; see `campaign plan`")
    if items:
        for item in seg.items:
            what = item.title or item.sha256[:12]
            lines.append(
                f"  item {item.index + 1}: {item.kind} {what} ({format_duration(item.duration_ms)})"
            )
    return lines


def render_at(result: AtInstant) -> list[str]:
    tz = ZoneInfo(result.screen.timezone)
    seg = result.segment
    lines = [
        f"screen {result.screen.name!r} ({result.screen.organisation}, {tz.key})"
        f" at {_local(result.at, tz)}",
        *_segment_lines(seg, tz, items=True),
        f"  from {_local(seg.start, tz)} until {_local(result.next_change, tz)}",
    ]
    if result.item is not None and result.item_until is not None:
        lines.append(
            f"  on screen: item {result.item.index + 1} until {_local(result.item_until, tz)}"
        )
    return lines


def render_timeline(result: Timeline) -> list[str]:
    tz = ZoneInfo(result.screen.timezone)
    lines = [f"screen {result.screen.name!r} ({result.screen.organisation}, {tz.key})"]
    for seg in result.segments:
        lines.append(f"{_local(seg.start, tz)} .. {_local(seg.end, tz)}")
        lines.extend("  " + line for line in _segment_lines(seg, tz, items=False))
    return lines


@click.command()
@click.option(
    "--screen", "screen_name", required=True, help="Screen name (any case) or id."
)
@ORG
@click.option(
    "--at",
    "at",
    help="An instant, e.g. 2022-09-07T10:00+08:00 (without an offset: the screen's zone).",
)
@click.option("--from", "start", help="Timeline start (with --to).")
@click.option("--to", "end", help="Timeline end (at most 31 days after --from).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly
def preview(
    ctx: click.Context,
    screen_name: str,
    org: str | None,
    at: str | None,
    start: str | None,
    end: str | None,
    as_json: bool,
) -> None:
    """What a screen plays at an instant (--at) or over a time (--from/--to), and why."""
    if (at is None) == (start is None and end is None) or (at is None and None in (start, end)):
        raise click.UsageError("give --at, or both --from and --to")
    with reading(ctx) as session:
        assert session is not None
        screen = find_screen(session, screen_name, org)
        tz = ZoneInfo(screen.timezone)
        if at is not None:
            result = screen_at(session, screen, _instant(at, "--at", tz), now(ctx))
            payload, lines = to_json(result), render_at(result)
        else:
            assert start is not None and end is not None
            timeline = screen_timeline(
                session,
                screen,
                _instant(start, "--from", tz),
                _instant(end, "--to", tz),
                now(ctx),
            )
            payload, lines = to_json(timeline), render_timeline(timeline)
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            click.echo(line)


_ = timedelta
