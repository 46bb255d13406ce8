"""Read a campaign file into a `CampaignSpec`, collecting every problem with its line.

The YAML is composed, not constructed: every value is read from its node as text, so
YAML 1.1's surprises (`on` as a boolean, `07:30` as a number, dates as timestamps) never
happen, and each problem names the line it is on.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from server.campaigns.files import schema as s
from server.campaigns.files.checks import check_spec
from server.campaigns.files.load_schedule import read_entry, read_targets
from server.campaigns.files.reader import Problem, Reader, choice, line_of
from server.campaigns.files.schema import CampaignSpec, EntrySpec, ItemSpec, TargetSpec
from server.playlists.models import FITS, TRANSITIONS
from server.scheduling.localtime import check_zone

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODES = 200_000

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


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: `*name` could repeat a node millions of times (a "billion
    laughs"), and a campaign file never needs one. Refused when met, before any expansion."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in campaign files", event.start_mark
            )
        return super().compose_node(parent, index)


def parse_campaign(text: str, base_dir: Path) -> tuple[CampaignSpec | None, list[Problem]]:
    """Parse campaign YAML text; relative poster paths are read from `base_dir`."""
    reader = Reader()
    try:
        root = yaml.compose(text, Loader=_NoAliasLoader)
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


def _campaign(r: Reader, root: Node, base_dir: Path) -> CampaignSpec | None:
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
        read_targets(r, top["targets"], "targets")
        if "targets" in top
        else TargetSpec(everyone=True)
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
            entry = read_entry(r, node, f"schedule[{i}]", tz or ZoneInfo("UTC"))
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

    for line, field, reason in check_spec(spec):
        r.bad(line, field, reason)
    if name is None or tz is None or span is None or targets is None:
        return None
    return spec


def _playlists(r: Reader, node: Node) -> dict[str, tuple[ItemSpec, ...]]:
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


def _item(r: Reader, node: Node, field: str) -> ItemSpec | None:
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
    fit = choice(r, found, "fit", field, FITS, "contain")
    transition = choice(r, found, "transition", field, TRANSITIONS, "cut")
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


def _style(r: Reader, node: Node, field: str) -> dict[str, object]:
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
