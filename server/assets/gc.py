"""Which stored bytes are still needed, and collecting the rest.

A blob is live when an asset row, a screenshot row or a published snapshot names its
hash, or when it is a variant (screen rendering, thumbnail) of such a hash. Variant rows
whose source no longer is live (the asset was deleted) are orphans: a collection drops
them, then the store removes every blob that is not live and older than its grace period.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from server.assets.models import Asset, Variant
from server.campaigns.models import Publication
from server.media.store import GcReport, MediaStore
from server.screens.models import Screenshot


@dataclass(frozen=True)
class Collection:
    """A store collection and the orphaned variant rows it dropped (or would drop)."""

    report: GcReport
    orphan_variants: int


def _hashes_in(value: Any) -> Iterator[str]:
    """Every string under a "sha256" key in a JSON value (a publication snapshot)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "sha256" and isinstance(item, str):
                yield item
            else:
                yield from _hashes_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _hashes_in(item)


def source_hashes(session: Session) -> set[str]:
    """Hashes that rows need as they are: assets, published snapshots, screenshots."""
    live = set(session.scalars(select(Asset.sha256).distinct()))
    for snapshot in session.scalars(
        select(Publication.snapshot).where(Publication.snapshot.is_not(None))
    ):
        live.update(_hashes_in(snapshot))
    live.update(session.scalars(select(Screenshot.sha256)))
    return live


def live_hashes(session: Session) -> set[str]:
    """Every blob some row still needs, variants of live sources included."""
    live = source_hashes(session)
    for source, sha in session.execute(select(Variant.source_sha256, Variant.sha256)):
        if source in live:
            live.add(sha)
    return live


def orphan_variant_ids(session: Session) -> list[int]:
    """Variant rows whose source nothing needs any more."""
    live = source_hashes(session)
    rows = session.execute(select(Variant.id, Variant.source_sha256).order_by(Variant.id))
    return [row_id for row_id, source in rows if source not in live]


def drop_orphan_variants(session: Session) -> int:
    """Delete orphaned variant rows; the caller commits. Returns how many went.

    The delete re-checks that no asset has the source, so an upload of the same bytes
    racing this keeps its thumbnail row (a dropped one would be rendered again anyway).
    """
    ids = orphan_variant_ids(session)
    dropped = 0
    for start in range(0, len(ids), 500):
        batch = ids[start : start + 500]
        result = session.execute(
            delete(Variant)
            .where(Variant.id.in_(batch))
            .where(~exists().where(Asset.sha256 == Variant.source_sha256))
            .execution_options(synchronize_session=False)
        )
        dropped += int(getattr(result, "rowcount", 0) or 0)
    return dropped


def collect(
    open_session: Callable[[], AbstractContextManager[Session]],
    store: MediaStore,
    now: datetime,
    *,
    dry_run: bool,
) -> Collection:
    """Report (dry run) or remove blobs no row needs, after dropping orphaned variant rows.

    `open_session` gives a session that commits when its block ends (`Database.session`).
    The rows are dropped and committed before any blob is deleted: a crash in between
    leaves bytes for the next run, never a row without its bytes.
    """
    with open_session() as session:
        orphans = len(orphan_variant_ids(session)) if dry_run else drop_orphan_variants(session)
    with open_session() as session:
        live = live_hashes(session)
    return Collection(store.gc(live, dry_run=dry_run, now=now), orphans)
