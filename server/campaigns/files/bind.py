"""Bind a parsed campaign to the database: its organisation, target names, and media.

Binding reads and never writes: posters are hashed as an import would store them (in a
scratch folder), so `check` and `plan` know the exact content without touching the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.assets.ingest import canonical_slogan, find_asset, image_digest, slogan_sha256
from server.assets.models import Asset, AssetKind
from server.auth.actors import Actor
from server.campaigns.files.checks import poster_path
from server.campaigns.files.load import Problem
from server.campaigns.files.schema import (
    SHA_REF,
    CampaignSpec,
    EntrySpec,
    ItemSpec,
    TargetSpec,
    window_strings,
)
from server.campaigns.files.state import CampaignState, EntryState, ItemState
from server.campaigns.snapshot import normal_targets
from server.errors import KnownError
from server.screens.models import Group, Screen


@dataclass(frozen=True)
class Bound:
    organisation: Organisation
    state: CampaignState


def choose_organisation(
    session: Session, spec: CampaignSpec, org_name: str | None, actor: Actor | None = None
) -> tuple[Organisation | None, list[Problem]]:
    """`--org`, else the file's `organisation`, else the only root organisation (for an
    actor: the only organisation it belongs to). An organisation the actor may not see is
    answered as one that does not exist."""
    name = org_name or spec.organisation
    line = spec.lines.get("organisation", 1)
    if name is not None:
        org = session.scalar(select(Organisation).where(Organisation.name == name))
        if org is None or (actor is not None and not actor.sees(org.path)):
            where = "--org" if org_name else "organisation"
            return None, [Problem(line if not org_name else 1, where, f"no organisation {name!r}")]
        return org, []
    if actor is not None:
        own = [session.get(Organisation, int(p.strip("/").rsplit("/", 1)[-1])) for p in actor.roles]
        if len(own) == 1 and own[0] is not None:
            return own[0], []
        return None, [
            Problem(1, "organisation", "you belong to several organisations: name one with --org")
        ]
    roots = list(session.scalars(select(Organisation).where(Organisation.parent_id.is_(None))))
    if len(roots) == 1:
        return roots[0], []
    if not roots:
        return None, [
            Problem(
                1,
                "organisation",
                "there is no organisation yet: create one with `signage org create NAME`",
            )
        ]
    return None, [
        Problem(1, "organisation", "several root organisations: name one with --org or the key")
    ]


class _Binder:
    def __init__(self, session: Session, spec: CampaignSpec, org: Organisation) -> None:
        self.session = session
        self.spec = spec
        self.org = org
        self.problems: list[Problem] = []

    def bad(self, line: int, field: str, reason: str) -> None:
        self.problems.append(Problem(line, field, reason))

    def targets(self, targets: TargetSpec, field: str) -> dict[str, Any]:
        if targets.everyone:
            return normal_targets({"everyone": True})
        subtree = Organisation.path.startswith(self.org.path)
        orgs: list[int] = []
        for name in targets.orgs:
            found = self.session.scalar(
                select(Organisation.id).where(Organisation.name == name, subtree)
            )
            if found is None:
                self.bad(targets.line, f"{field}.orgs", f"no organisation {name!r} in {self._in}")
            else:
                orgs.append(found)
        groups: list[int] = []
        for name in targets.groups:
            found_groups = list(
                self.session.scalars(
                    select(Group.id).join(Group.organisation).where(Group.name == name, subtree)
                )
            )
            if not found_groups:
                self.bad(targets.line, f"{field}.groups", f"no group {name!r} in {self._in}")
            groups.extend(found_groups)
        screens: list[int] = []
        for name in targets.screens:
            found_screens = list(
                self.session.scalars(
                    select(Screen.id).join(Screen.organisation).where(Screen.name == name, subtree)
                )
            )
            if len(found_screens) != 1:
                why = "no screen" if not found_screens else "more than one screen called"
                self.bad(targets.line, f"{field}.screens", f"{why} {name!r} in {self._in}")
            screens.extend(found_screens[:1])
        return normal_targets(
            {
                "organisations": orgs,
                "groups": groups,
                "tags": list(targets.tags),
                "screens": screens,
            }
        )

    @property
    def _in(self) -> str:
        return f"{self.org.name!r} and its sub-organisations"

    def item(self, item: ItemSpec) -> ItemState | None:
        field = f"{item.where}.{item.kind}"
        if item.kind == "slogan":
            slogan = canonical_slogan(item.source, item.style)
            return ItemState(
                kind=str(AssetKind.SLOGAN),
                sha256=slogan_sha256(slogan),
                duration_ms=item.duration_ms,
                fit=item.fit,
                transition=item.transition,
                label=slogan["text"].split("\n", 1)[0],
                slogan=slogan,
            )
        ref = SHA_REF.match(item.source)
        if ref is not None:
            asset = self._visible_asset(ref.group(1))
            if asset is None:
                self.bad(item.line, field, f"no asset {item.source} in {self._in}'s ancestors")
                return None
            return ItemState(
                kind=str(asset.kind),
                sha256=asset.sha256,
                duration_ms=item.duration_ms,
                fit=item.fit,
                transition=item.transition,
                label=asset.original_name or asset.sha256[:12],
                asset_id=asset.id,
            )
        path = poster_path(self.spec, item)
        try:
            sha = image_digest(self.session, self.org.id, path)
        except KnownError as exc:
            self.bad(item.line, field, exc.detail)
            return None
        return ItemState(
            kind=str(AssetKind.IMAGE),
            sha256=sha,
            duration_ms=item.duration_ms,
            fit=item.fit,
            transition=item.transition,
            label=item.source,
            path=path,
        )

    def _visible_asset(self, sha: str) -> Asset | None:
        for org_id in reversed(self.org.ancestor_ids):
            asset = find_asset(self.session, org_id, sha)
            if asset is not None:
                return asset
        return None

    def entry(self, entry: EntrySpec) -> EntryState:
        targets: dict[str, Any] = {}
        if entry.targets is not None:
            targets = self.targets(entry.targets, f"{entry.where}.targets")
        start = end = None
        if entry.interval is not None:
            start, end = (t.astimezone(UTC) for t in entry.interval)
        return EntryState(
            playlist=entry.playlist,
            targets=targets,
            first_date=entry.first_date,
            last_date=entry.last_date,
            weekdays=entry.weekdays,
            windows=tuple(window_strings(w) for w in entry.windows),
            interval_start=start,
            interval_end=end,
            screen_local=entry.screen_local,
            priority=entry.priority,
            layer=entry.layer,
        )


def bind(
    session: Session, spec: CampaignSpec, org: Organisation
) -> tuple[Bound | None, list[Problem]]:
    """The state `spec` asks for in `org`, or the problems that prevent it."""
    binder = _Binder(session, spec, org)
    targets = binder.targets(spec.targets, "targets")
    playlists: dict[str, tuple[ItemState, ...]] = {}
    for name, items in spec.playlists.items():
        bound = [binder.item(i) for i in items]
        playlists[name] = tuple(i for i in bound if i is not None)
    entries = tuple(binder.entry(e) for e in spec.entries)
    if binder.problems:
        return None, sorted(binder.problems, key=lambda p: (p.line, p.field))
    state = CampaignState(
        name=spec.name,
        organisation_id=org.id,
        timezone=spec.timezone,
        start_date=spec.start,
        end_date=spec.end,
        targets=targets,
        playlists=playlists,
        entries=entries,
        description=spec.description,
    )
    return Bound(org, state), []
