"""Read a campaign file into a `CampaignSpec`, collecting every problem with its line.

The YAML is composed, not constructed: every value is read from its node as text, so
YAML 1.1's surprises (`on` as a boolean, `07:30` as a number, dates as timestamps) never
happen, and each problem names the line it is on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from server.campaigns import schema as s
from server.campaigns.schema import Bad, CampaignSpec, EntrySpec, ItemSpec, TargetSpec
from server.scheduling.localtime import check_zone

T = TypeVar("T")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODES = 200_000
MAX_NAME = 300

CAMPAIGN_KEYS = {
    "campaign",
    "description",
    "organisation",
    "timezone",
    "dates",
    "targets",
    "playlists",
    "schedule",
}
ITEM_KEYS = {"slogan", "poster", "duration", "fit", "transition", "style"}
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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a campaign file."""

    line: int
    field: str
    reason: str

    def render(self, filename: str) -> str:
        return f"{filename}:{self.line}: {self.field}: {self.reason}"


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.visited = 0

    def bad(self, node: Node | int, field: str, reason: str) -> None:
        line = node if isinstance(node, int) else line_of(node)
        self.problems.append(Problem(line, field, reason))

    def mapping(self, node: Node, field: str, allowed: set[str]) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.bad(node, field, "must be a mapping (key: value lines)")
            return None
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            self.visited += 1
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            where = f"{field}.{key}" if field else str(key)
            if not isinstance(key, str):
                self.bad(key_node, field or "file", "keys must be plain words")
            elif key not in allowed:
                known = ", ".join(sorted(allowed))
                self.bad(key_node, where, f"unknown key (known: {known})")
            elif key in out:
                self.bad(key_node, where, "given twice")
            else:
                out[key] = value_node
        return out

    def scalar(self, node: Node, field: str) -> str | None:
        self.visited += 1
        if not isinstance(node, ScalarNode):
            self.bad(node, field, "must be a single value")
            return None
        value: str = node.value
        return value

    def text(self, node: Node, field: str, *, max_length: int = MAX_NAME) -> str | None:
        value = self.scalar(node, field)
        if value is None:
            return None
        value = value.strip()
        if not value:
            self.bad(node, field, "must not be empty")
            return None
        if len(value) > max_length:
            self.bad(node, field, f"at most {max_length} characters")
            return None
        return value

    def sequence(self, node: Node, field: str) -> list[Node] | None:
        if isinstance(node, SequenceNode):
            return list(node.value)
        self.bad(node, field, "must be a list")
        return None

    def parse(self, node: Node, field: str, parser: Callable[[str], T]) -> T | None:
        value = self.scalar(node, field)
        if value is None:
            return None
        try:
            return parser(value)
        except Bad as exc:
            self.bad(node, field, str(exc))
            return None

    def names(self, node: Node, field: str) -> tuple[str, ...]:
        """A list of names, or one name on its own."""
        nodes = [node] if isinstance(node, ScalarNode) else self.sequence(node, field)
        out: list[str] = []
        for i, item in enumerate(nodes or []):
            name = self.text(item, f"{field}[{i}]" if not isinstance(node, ScalarNode) else field)
            if name is not None:
                out.append(name)
        return tuple(out)


def load_campaign(path: Path) -> tuple[CampaignSpec | None, list[Problem]]:
    """Parse the campaign file at `path`; problems are sorted by line."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [Problem(1, "file", f"larger than {MAX_FILE_BYTES} bytes")]
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None, [Problem(1, "file", "is not UTF-8 text")]
    except OSError as exc:
        return None, [Problem(1, "file", f"cannot be read: {exc.strerror or exc}")]
    return parse_campaign(text, base_dir=path.parent)


def parse_campaign(text: str, base_dir: Path) -> tuple[CampaignSpec | None, list[Problem]]:
    """Parse campaign YAML text; relative poster paths are read from `base_dir`."""
    reader = _Reader()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = int(mark.line) + 1 if mark is not None else 1
        return None, [Problem(line, "file", f"not valid YAML: {exc.problem or exc}")]
    except yaml.YAMLError as exc:
        return None, [Problem(1, "file", f"not valid YAML: {exc}")]
    if root is None:
        return None, [Problem(1, "file", "is empty")]
    spec = _campaign(reader, root, base_dir)
    problems = sorted(reader.problems, key=lambda p: (p.line, p.field))
    return (spec if not problems else None), problems


def _campaign(r: _Reader, root: Node, base_dir: Path) -> CampaignSpec | None:
    top = r.mapping(root, "", CAMPAIGN_KEYS)
    if top is None:
        return None
    lines = {k: line_of(v) for k, v in top.items()}
    for key in ("campaign", "timezone", "dates", "playlists", "schedule"):
        if key not in top:
            r.bad(root, key, "is required")
    name = r.text(top["campaign"], "campaign") if "campaign" in top else None
    description = ""
    if "description" in top:
        description = r.scalar(top["description"], "description") or ""
        description = description.strip()
    organisation = r.text(top["organisation"], "organisation") if "organisation" in top else None
    tz_name = r.text(top["timezone"], "timezone", max_length=64) if "timezone" in top else None
    tz: ZoneInfo | None = None
    if tz_name is not None:
        problem = check_zone(tz_name)
        if problem is not None:
            r.bad(top["timezone"], "timezone", problem)
        else:
            tz = ZoneInfo(tz_name)
    span = r.parse(top["dates"], "dates", s.parse_date_range) if "dates" in top else None
    targets = (
        _targets(r, top["targets"], "targets") if "targets" in top else TargetSpec(everyone=True)
    )
    playlists = _playlists(r, top["playlists"]) if "playlists" in top else {}
    entries: list[EntrySpec] = []
    if "schedule" in top:
        nodes = r.sequence(top["schedule"], "schedule") or []
        if not nodes and isinstance(top["schedule"], SequenceNode):
            r.bad(top["schedule"], "schedule", "is empty: the campaign would play nothing")
        for i, node in enumerate(nodes):
            # A bad or missing zone is reported once, on its own line; instants are still
            # checked (read as UTC) rather than each reported as unreadable.
            entry = _entry(r, node, f"schedule[{i}]", tz or ZoneInfo("UTC"))
            if entry is not None:
                entries.append(entry)
    if r.visited > MAX_NODES:
        r.bad(root, "file", f"more than {MAX_NODES} values")
    # Cross-checks run even when a header field is bad, so every problem is reported.
    start, end = span if span is not None else (s.EARLIEST, s.LATEST)
    spec = CampaignSpec(
        name=name or "?",
        timezone=tz_name if tz is not None and tz_name else "UTC",
        start=start,
        end=end,
        targets=targets or TargetSpec(everyone=True),
        playlists=playlists,
        entries=tuple(entries),
        description=description,
        organisation=organisation,
        base_dir=str(base_dir),
        lines=lines,
    )
    from server.campaigns.rules import check_spec

    for line, field, reason in check_spec(spec):
        r.bad(line, field, reason)
    if name is None or tz is None or span is None or targets is None:
        return None
    return spec


def _targets(r: _Reader, node: Node, field: str) -> TargetSpec | None:
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


def _playlists(r: _Reader, node: Node) -> dict[str, tuple[ItemSpec, ...]]:
    if not isinstance(node, MappingNode):
        r.bad(node, "playlists", "must be a mapping of playlist names to lists of items")
        return {}
    out: dict[str, tuple[ItemSpec, ...]] = {}
    if not node.value:
        r.bad(node, "playlists", "is empty")
    for key_node, value_node in node.value:
        name = r.text(key_node, "playlists", max_length=200)
        if name is None:
            continue
        field = f"playlists.{name}"
        if name in out:
            r.bad(key_node, field, "given twice")
            continue
        items_nodes = r.sequence(value_node, field)
        if items_nodes is None:
            continue
        if not items_nodes:
            r.bad(value_node, field, "has no items")
        items = [_item(r, n, f"{field}[{i}]") for i, n in enumerate(items_nodes)]
        out[name] = tuple(i for i in items if i is not None)
    return out


def _item(r: _Reader, node: Node, field: str) -> ItemSpec | None:
    found = r.mapping(node, field, ITEM_KEYS)
    if found is None:
        return None
    kinds = [k for k in ("slogan", "poster") if k in found]
    if len(kinds) != 1:
        r.bad(node, field, "needs exactly one of `slogan` or `poster`")
        return None
    kind = kinds[0]
    source = (
        r.text(found[kind], f"{field}.{kind}", max_length=2000)
        if kind == "poster"
        else r.scalar(found[kind], f"{field}.{kind}")
    )
    if kind == "slogan" and source is not None and not source.strip():
        r.bad(found[kind], f"{field}.slogan", "must not be empty")
        source = None
    duration = None
    if "duration" not in found:
        r.bad(node, f"{field}.duration", "is required")
    else:
        duration = r.parse(found["duration"], f"{field}.duration", s.parse_duration)
    fit = _choice(r, found, "fit", field, s.FITS, "contain")
    transition = _choice(r, found, "transition", field, s.TRANSITIONS, "cut")
    style: dict[str, object] = {}
    if "style" in found:
        if kind != "slogan":
            r.bad(found["style"], f"{field}.style", "only slogans have a style")
        style = _style(r, found["style"], f"{field}.style")
    if source is None or duration is None or fit is None or transition is None:
        return None
    return ItemSpec(
        kind=kind,
        source=source,
        duration_ms=duration,
        fit=fit,
        transition=transition,
        style=style,
        line=line_of(node),
        where=field,
    )


_STYLE_NUMBERS = {
    "margin": float,
    "line_spacing": float,
    "min_font_size": int,
    "max_font_size": int,
}


def _style(r: _Reader, node: Node, field: str) -> dict[str, object]:
    if not isinstance(node, MappingNode):
        r.bad(node, field, "must be a mapping")
        return {}
    out: dict[str, object] = {}
    for key_node, value_node in node.value:
        key = r.scalar(key_node, field)
        if key is None:
            continue
        raw = r.scalar(value_node, f"{field}.{key}")
        if raw is None:
            continue
        kind = _STYLE_NUMBERS.get(key)
        try:
            out[key] = kind(raw) if kind is not None else raw
        except ValueError:
            r.bad(value_node, f"{field}.{key}", f"must be a number, not {raw!r}")
    return out


def _choice(
    r: _Reader, found: dict[str, Node], key: str, field: str, allowed: tuple[str, ...], default: str
) -> str | None:
    if key not in found:
        return default
    value = r.scalar(found[key], f"{field}.{key}")
    if value is None:
        return None
    if value not in allowed:
        r.bad(found[key], f"{field}.{key}", f"must be one of: {', '.join(allowed)}")
        return None
    return value


def _entry(r: _Reader, node: Node, field: str, tz: ZoneInfo | None) -> EntrySpec | None:
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
        targets = _targets(r, found["targets"], f"{field}.targets")
        ok = ok and targets is not None
    screen_local = False
    if "time" in found:
        mode = _choice(r, found, "time", field, s.TIME_MODES, "campaign")
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
    layer = _choice(r, found, "layer", field, s.LAYERS, "normal")
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
