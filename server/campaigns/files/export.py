"""Write a stored campaign back as a campaign file that applies to exactly the same content.

Posters are written either as `sha256:<hash>` references to assets the server already has
(the default: the file applies on the same server), or, with an output folder, as files
copied next to the campaign file (the file then applies anywhere). Either way
export ▸ apply ▸ export gives the same text.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.assets.models import Asset
from server.campaigns.describe import Names
from server.campaigns.files.plan import current_state
from server.campaigns.files.schema import (
    DAY_NAMES,
    format_date_range,
    format_duration,
    format_instant,
    format_window,
)
from server.campaigns.files.state import EntryState, ItemState
from server.campaigns.models import Campaign
from server.errors import NotFound
from server.media.store import MediaStore

PosterRef = Callable[[ItemState], str]


class _Flow(list[Any]):
    """A list written on one line: `[mon, tue]`."""


class _FlowMap(dict[str, Any]):
    """A mapping written on one line: `{groups: [campus]}`."""


class _Dumper(
    yaml.emitter.Emitter,
    yaml.serializer.Serializer,
    yaml.representer.SafeRepresenter,
    yaml.resolver.BaseResolver,
):
    """Writes every value as plain text where YAML syntax allows (`on: 2022-09-06`, not
    `'on': '2022-09-06'`): campaign files are read as text, never by YAML 1.1 types."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        yaml.emitter.Emitter.__init__(
            self,
            stream,
            canonical=None,
            indent=kwargs.get("indent"),
            width=kwargs.get("width"),
            allow_unicode=kwargs.get("allow_unicode"),
            line_break=None,
        )
        yaml.serializer.Serializer.__init__(self, encoding=None, explicit_start=None)
        yaml.representer.SafeRepresenter.__init__(self, sort_keys=False)
        yaml.resolver.BaseResolver.__init__(self)


def _str(dumper: yaml.representer.SafeRepresenter, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(
    _Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)
_Dumper.add_representer(
    _FlowMap,
    lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True),
)


def sha_ref(item: ItemState) -> str:
    return f"sha256:{item.sha256}"


class PosterFiles:
    """Copies each poster into `folder/posters/` and names it relative to `folder`."""

    def __init__(self, session: Session, store: MediaStore, folder: Path) -> None:
        self.session = session
        self.store = store
        self.folder = folder
        self.names: dict[str, str] = {}

    def __call__(self, item: ItemState) -> str:
        if item.sha256 in self.names:
            return self.names[item.sha256]
        asset = self.session.get(Asset, item.asset_id) if item.asset_id else None
        ext = {"image/png": ".png", "image/jpeg": ".jpg"}.get(asset.media_type if asset else "", "")
        stem = Path(asset.original_name).stem if asset and asset.original_name else ""
        name = f"{stem or 'poster'}{ext}"
        if name in self.names.values():
            name = f"{stem or 'poster'}-{item.sha256[:8]}{ext}"
        target = self.folder / "posters" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.store.open(item.sha256) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        self.names[item.sha256] = f"posters/{name}"
        return self.names[item.sha256]


def find_campaign(session: Session, name: str, org_name: str | None = None) -> Campaign:
    stmt = select(Campaign).where(Campaign.name == name)
    if org_name is not None:
        stmt = stmt.join(Organisation, Organisation.id == Campaign.organisation_id).where(
            Organisation.name == org_name
        )
    found = list(session.scalars(stmt))
    if not found:
        raise NotFound(f"no campaign {name!r}" + (f" in {org_name!r}" if org_name else ""))
    if len(found) > 1:
        raise NotFound(f"several campaigns are called {name!r}: name the organisation with --org")
    return found[0]


def export_campaign(session: Session, campaign: Campaign, poster: PosterRef = sha_ref) -> str:
    """The campaign as campaign-file text."""
    state = current_state(session, campaign)
    names = Names(session)
    tz = ZoneInfo(state.timezone)
    doc: dict[str, Any] = {"campaign": state.name}
    if state.description:
        doc["description"] = state.description
    doc["organisation"] = names.org(state.organisation_id)
    doc["timezone"] = state.timezone
    doc["dates"] = format_date_range(state.start_date, state.end_date)
    doc["targets"] = _targets(state.targets, names)
    doc["playlists"] = {
        name: [_item(item, poster) for item in items] for name, items in state.playlists.items()
    }
    doc["schedule"] = [_entry(e, tz, names) for e in state.entries]
    text: str = yaml.dump(
        doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )
    return text


def _targets(targets: dict[str, Any], names: Names) -> Any:
    if targets.get("everyone"):
        return "all"
    out = _FlowMap()
    if targets.get("organisations"):
        out["orgs"] = _Flow(sorted(names.org(i) for i in targets["organisations"]))
    if targets.get("groups"):
        out["groups"] = _Flow(sorted({names.group(i) for i in targets["groups"]}))
    if targets.get("tags"):
        out["tags"] = _Flow(sorted(targets["tags"]))
    if targets.get("screens"):
        out["screens"] = _Flow(sorted(names.screen(i) for i in targets["screens"]))
    return out


def _item(item: ItemState, poster: PosterRef) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if item.kind == "slogan" and item.slogan is not None:
        out["slogan"] = item.slogan["text"]
        if item.slogan.get("style"):
            out["style"] = _FlowMap({k: str(v) for k, v in item.slogan["style"].items()})
    else:
        out["poster"] = poster(item)
    out["duration"] = format_duration(item.duration_ms)
    if item.fit != "contain":
        out["fit"] = item.fit
    if item.transition != "cut":
        out["transition"] = item.transition
    return out


def _entry(entry: EntryState, tz: ZoneInfo, names: Names) -> dict[str, Any]:
    out: dict[str, Any] = {"play": entry.playlist}
    if entry.interval_start is not None and entry.interval_end is not None:
        out["from"] = format_instant(entry.interval_start, tz)
        out["until"] = format_instant(entry.interval_end, tz)
    elif entry.first_date is not None and entry.last_date is not None:
        if entry.first_date == entry.last_date:
            out["on"] = entry.first_date.isoformat()
        else:
            out["dates"] = format_date_range(entry.first_date, entry.last_date)
    if entry.weekdays is not None:
        out["days"] = _Flow(DAY_NAMES[d] for d in entry.weekdays)
    if entry.windows:
        windows = [
            format_window(time.fromisoformat(s), time.fromisoformat(e)) for s, e in entry.windows
        ]
        out["between"] = windows[0] if len(windows) == 1 else _Flow(windows)
    if entry.targets:
        out["targets"] = _targets(entry.targets, names)
    if entry.screen_local:
        out["time"] = "screen-local"
    if entry.priority:
        out["priority"] = str(entry.priority)
    if entry.layer != "normal":
        out["layer"] = entry.layer
    return out
