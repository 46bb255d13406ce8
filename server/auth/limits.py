"""Rate limits shared by every node: fixed-window counters in the database.

A limit allows `count` events of one kind per key (a source address, an organisation) in
each window of `window` (windows are aligned on a fixed epoch, so every node agrees on
them). One upsert per counted event; nothing is counted on the players' poll. Counters
of past windows are deleted by the job runner (`prune_counters`).

The source address is the peer's, or, when the peer is a configured trusted proxy, the
address that proxy (and any trusted proxy before it) says it forwarded for.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.auth.models import RateCounter
from server.errors import TooManyRequests

EPOCH: Final = datetime(2000, 1, 1, tzinfo=UTC)
KEEP: Final = timedelta(days=1)  # longer than any window
MAX_KEY: Final = 100


@dataclass(frozen=True)
class Limit:
    kind: str
    count: int
    window: timedelta
    what: str  # for the message: "new pairings from this address"

    def window_start(self, now: datetime) -> datetime:
        return EPOCH + ((now - EPOCH) // self.window) * self.window

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the current window ends (at least 1)."""
        left = self.window_start(now) + self.window - now
        return max(1, math.ceil(left.total_seconds()))

    def refuse(self, now: datetime) -> TooManyRequests:
        return TooManyRequests(
            f"too many {self.what}; try again in {self.retry_after(now)} s",
            self.retry_after(now),
        )


def used(session: Session, limit: Limit, key: str, now: datetime) -> int:
    """How many events `key` has had in the current window."""
    count = session.scalar(
        select(RateCounter.count).where(
            RateCounter.kind == limit.kind,
            RateCounter.key == key[:MAX_KEY],
            RateCounter.window_start == limit.window_start(now),
        )
    )
    return int(count or 0)


def check(session: Session, limit: Limit, key: str, now: datetime) -> None:
    """TooManyRequests if `key` has used up the current window (counts nothing)."""
    if used(session, limit, key, now) >= limit.count:
        raise limit.refuse(now)


def hit(session: Session, limit: Limit, key: str, now: datetime) -> int:
    """Count one event for `key` in the caller's transaction; the window's count so far."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = RateCounter.__table__
    assert isinstance(table, Table)
    statement = (
        insert(table)
        .values(kind=limit.kind, key=key[:MAX_KEY], window_start=limit.window_start(now), count=1)
        .on_conflict_do_update(
            index_elements=[table.c.kind, table.c.key, table.c.window_start],
            set_={"count": table.c.count + 1},
        )
        .returning(table.c.count)
    )
    return int(session.execute(statement).scalar_one())


def take(session: Session, limit: Limit, key: str, now: datetime) -> None:
    """Count one event; TooManyRequests (and the caller rolls back) past the limit."""
    if hit(session, limit, key, now) > limit.count:
        raise limit.refuse(now)


def prune_counters(session: Session, now: datetime) -> int:
    """Delete the counters of windows long past; how many."""
    result = session.execute(delete(RateCounter).where(RateCounter.window_start < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)


def source_address(
    peer: str | None, forwarded_for: str | None, trusted: Sequence[str]
) -> str:
    """The client's address as a rate-limit key: the peer's, or the rightmost address in
    X-Forwarded-For that a trusted proxy did not add. IPv6 clients count per /64 (one
    host usually owns a whole /64)."""
    networks = [ipaddress.ip_network(t, strict=False) for t in trusted]
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()] if networks else []
    address = _parse(peer)
    while address is not None and hops and any(address in n for n in networks):
        address = _parse(hops.pop())
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _parse(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((value or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
