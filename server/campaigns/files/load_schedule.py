"""Reading a campaign file's schedule entries and targets."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from yaml.nodes import Node, ScalarNode

from server.campaigns.files import schema as s
from server.campaigns.files.reader import Reader, choice, line_of
from server.campaigns.files.schema import Bad, EntrySpec, TargetSpec

ENTRY_KEYS = {
    "play",
    "on",
    "dates",
    "days",
    "between",
    "from",
    "until",
    "targets",
    "time",
    "priority",
    "layer",
}
TARGET_KEYS = {"orgs", "groups", "tags", "screens"}


def read_targets(r: Reader, node: Node, field: str) -> TargetSpec | None:
    if isinstance(node, ScalarNode):
        if node.value.strip() == "all":
            return TargetSpec(everyone=True, line=line_of(node))
        r.bad(node, field, "must be `all` or a mapping of orgs, groups, tags, screens")
        return None
    found = r.mapping(node, field, TARGET_KEYS)
    if found is None:
        return None
    if not found:
        r.bad(node, field, "names no screens (use `all`, or orgs, groups, tags, screens)")
        return None
    values = {key: r.names(value, f"{field}.{key}") for key, value in found.items()}
    for i, tag in enumerate(values.get("tags", ())):
        try:
            s.check_tag(tag)
        except Bad as exc:
            r.bad(found["tags"], f"{field}.tags[{i}]", str(exc))
    return TargetSpec(
        orgs=values.get("orgs", ()),
        groups=values.get("groups", ()),
        tags=values.get("tags", ()),
        screens=values.get("screens", ()),
        line=line_of(node),
    )


def read_entry(r: Reader, node: Node, field: str, tz: ZoneInfo | None) -> EntrySpec | None:
    found = r.mapping(node, field, ENTRY_KEYS)
    if found is None:
        return None
    lines = {k: line_of(v) for k, v in found.items()}
    ok = True
    if "play" not in found:
        r.bad(node, f"{field}.play", "is required (the name of a playlist)")
        ok = False
    playlist = r.text(found["play"], f"{field}.play", max_length=200) if "play" in found else None
    first: date | None = None
    last: date | None = None
    if "on" in found and "dates" in found:
        r.bad(found["dates"], f"{field}.dates", "give either `on` or `dates`, not both")
        ok = False
    elif "on" in found:
        day = r.parse(found["on"], f"{field}.on", s.parse_date)
        ok = ok and day is not None
        first = last = day
    elif "dates" in found:
        span = r.parse(found["dates"], f"{field}.dates", s.parse_date_range)
        ok = ok and span is not None
        if span is not None:
            first, last = span
    weekdays = None
    if "days" in found:
        days = r.sequence(found["days"], f"{field}.days")
        if days is not None:
            parsed = [r.parse(d, f"{field}.days[{i}]", s.parse_weekday) for i, d in enumerate(days)]
            if not days:
                r.bad(found["days"], f"{field}.days", "is empty: the entry would never play")
            if None in parsed or not days:
                ok = False
            weekdays = tuple(sorted({d for d in parsed if d is not None}))
    windows: list[tuple[time, time]] = []
    if "between" in found:
        w_node = found["between"]
        w_nodes = [w_node] if isinstance(w_node, ScalarNode) else r.sequence(w_node, field)
        for i, wn in enumerate(w_nodes or []):
            sub = f"{field}.between" + ("" if isinstance(w_node, ScalarNode) else f"[{i}]")
            window = r.parse(wn, sub, s.parse_window)
            ok = ok and window is not None
            if window is not None:
                windows.append(window)
    interval: tuple[datetime, datetime] | None = None
    if "from" in found or "until" in found:
        for key in ("from", "until"):
            if key not in found:
                r.bad(node, f"{field}.{key}", "is required with `from`/`until`")
                ok = False
        for key in ("on", "dates", "days", "between"):
            if key in found:
                r.bad(found[key], f"{field}.{key}", "cannot be combined with `from`/`until`")
                ok = False
        if "from" in found and "until" in found:
            start = r.parse(found["from"], f"{field}.from", lambda v: s.parse_instant(v, tz))
            end = r.parse(found["until"], f"{field}.until", lambda v: s.parse_instant(v, tz))
            if start is not None and end is not None:
                if end <= start:
                    r.bad(found["until"], f"{field}.until", "must be after `from`")
                    ok = False
                interval = (start, end)
            else:
                ok = False
    targets = None
    if "targets" in found:
        targets = read_targets(r, found["targets"], f"{field}.targets")
        ok = ok and targets is not None
    screen_local = False
    if "time" in found:
        mode = choice(r, found, "time", field, s.TIME_MODES, "campaign")
        ok = ok and mode is not None
        screen_local = mode == "screen-local"
    priority = 0
    if "priority" in found:
        raw = r.scalar(found["priority"], f"{field}.priority")
        try:
            priority = int(raw or "")
            if abs(priority) > s.MAX_PRIORITY:
                raise ValueError
        except ValueError:
            r.bad(
                found["priority"],
                f"{field}.priority",
                f"must be a whole number up to ±{s.MAX_PRIORITY}",
            )
            ok = False
    layer = choice(r, found, "layer", field, s.LAYERS, "normal")
    if not ok or playlist is None or layer is None:
        return None
    return EntrySpec(
        playlist=playlist,
        first_date=first,
        last_date=last,
        weekdays=weekdays,
        windows=tuple(windows),
        interval=interval,
        targets=targets,
        screen_local=screen_local,
        priority=priority,
        layer=layer,
        line=line_of(node),
        where=field,
        lines=lines,
    )
