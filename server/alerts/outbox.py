"""Sending the outbox: exactly one message per (incident, channel, event), digests included.

1. Group: a channel's unsent rows of one event wait until none came for `alert_digest_s`
   (a power cut's screens cross their threshold over a minute or two), then get one
   `message_key` together, by a conditional UPDATE that only one sender can win.
2. Claim: a sender takes a message by a conditional UPDATE on its rows (unclaimed, or a
   dead sender's claim expired) and commits that before sending anything.
3. Send, then record: sent, or failed with the next attempt after an exponential backoff.

The key goes out as the webhook's Idempotency-Key (and the e-mail's Message-ID), the same
on every retry: a receiver that got a message whose acknowledgement was lost can drop it.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.orm import Session

from server.alerts.messages import locale_of, render
from server.alerts.models import AlertChannel, ChannelKind, Notification
from server.alerts.transports import DeliveryFailed, Email, Webhook
from server.config import Settings

log = logging.getLogger(__name__)
CLAIM: Final = timedelta(minutes=5)
FIRST_RETRY: Final = timedelta(seconds=30)
MAX_RETRY: Final = timedelta(hours=1)
MAX_ATTEMPTS: Final = 10
MAX_HOLD_DIGESTS: Final = 5  # a steady trickle is held at most this many digest periods


@dataclass
class Sent:
    messages: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.messages} messages sent, {self.failed} attempts failed"


def backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failure: 30 s, 1 min, 2 min … at most an hour."""
    return min(FIRST_RETRY * (2 ** max(0, attempts - 1)), MAX_RETRY)


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def message_key(ids: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:32]


def group_due(engine: Engine, now: datetime, settings: Settings) -> int:
    """Give one key to each channel's quiet batch of unkeyed rows; returns batches keyed."""
    digest = timedelta(seconds=settings.alert_digest_s)
    keyed = 0
    with Session(engine) as session, session.begin():
        pending: dict[tuple[int, str], list[tuple[int, datetime]]] = defaultdict(list)
        for nid, channel_id, event, created in session.execute(
            select(
                Notification.id, Notification.channel_id, Notification.event,
                Notification.created_at,
            ).where(Notification.message_key.is_(None), Notification.sent_at.is_(None))
        ):
            pending[(channel_id, str(event))].append((nid, created))
    for rows in pending.values():
        newest = max(c for _, c in rows)
        oldest = min(c for _, c in rows)
        if newest > now - digest and oldest > now - digest * MAX_HOLD_DIGESTS:
            continue  # more may be coming: a power cut takes a minute or two to show
        ids = sorted(i for i, _ in rows)
        key = message_key(ids)
        with Session(engine) as session, session.begin():
            won = _rowcount(
                session.execute(
                    update(Notification)
                    .where(Notification.id.in_(ids), Notification.message_key.is_(None))
                    .values(message_key=key)
                )
            )
            if won != len(ids):  # another sender grouped some of them: leave it theirs
                session.rollback()
                continue
        keyed += 1
    return keyed


def claim(engine: Engine, key: str, holder: str, now: datetime) -> bool:
    """Take the message `key` for sending, if it is due and nobody (alive) holds it."""
    with Session(engine) as session, session.begin():
        return bool(
            _rowcount(
                session.execute(
                    update(Notification)
                    .where(
                        Notification.message_key == key,
                        Notification.sent_at.is_(None),
                        Notification.failed_at.is_(None),
                        Notification.next_attempt_at <= now,
                        or_(
                            Notification.claimed_by.is_(None),
                            Notification.claimed_until < now,
                        ),
                    )
                    .values(claimed_by=holder, claimed_until=now + CLAIM)
                )
            )
        )


def deliver(engine: Engine, holder: str, now: datetime, settings: Settings) -> Sent:
    """Group what is quiet, then claim and send every due message."""
    group_due(engine, now, settings)
    sent = Sent()
    with Session(engine) as session:
        keys = list(
            session.scalars(
                select(Notification.message_key)
                .where(
                    Notification.message_key.is_not(None),
                    Notification.sent_at.is_(None),
                    Notification.failed_at.is_(None),
                    Notification.next_attempt_at <= now,
                )
                .group_by(Notification.message_key)
                .order_by(func.min(Notification.id))
            )
        )
    for key in keys:
        assert key is not None
        if not claim(engine, key, holder, now):
            continue
        if send_claimed(engine, key, holder, now, settings):
            sent.messages += 1
        else:
            sent.failed += 1
    return sent


def send_claimed(engine: Engine, key: str, holder: str, now: datetime, settings: Settings) -> bool:
    """Send the message `key` (claimed by `holder`) and record the outcome."""
    with Session(engine) as session:
        rows = list(
            session.scalars(
                select(Notification).where(
                    Notification.message_key == key, Notification.claimed_by == holder
                )
            )
        )
        if not rows:
            return False
        channel = session.get(AlertChannel, rows[0].channel_id)
        event = str(rows[0].event)
        payloads = [r.payload for r in rows]
        attempts = max(r.attempts for r in rows) + 1
    error: DeliveryFailed | None = None
    try:
        if channel is None or not channel.enabled:
            raise DeliveryFailed("the channel is gone or disabled", permanent=True)
        _send(channel, event, payloads, key, now, settings)
    except DeliveryFailed as exc:
        error = exc
        log.warning("alert message %s to channel %s failed: %s", key, rows[0].channel_id, exc)
    mine = and_(Notification.message_key == key, Notification.claimed_by == holder)
    with Session(engine) as session, session.begin():
        if error is None:
            values: dict[str, Any] = {"sent_at": now, "attempts": attempts, "last_error": ""}
        else:
            give_up = error.permanent or attempts >= MAX_ATTEMPTS
            values = {
                "attempts": attempts,
                "last_error": str(error)[:500],
                "next_attempt_at": now + backoff(attempts),
                "failed_at": now if give_up else None,
            }
        session.execute(update(Notification).where(mine).values(claimed_by=None, **values))
    return error is None


def _send(
    channel: AlertChannel,
    event: str,
    payloads: list[dict[str, Any]],
    key: str,
    now: datetime,
    settings: Settings,
) -> None:
    locale = locale_of(channel.locale)
    message = render(event, payloads, locale)
    if channel.kind is ChannelKind.WEBHOOK:
        body = {
            "key": key,
            "event": event,
            "locale": locale,
            "subject": message.subject,
            "text": message.body,
            "count": len(payloads),
            "incidents": sorted(payloads, key=lambda p: p["incident"]),
        }
        Webhook(channel.target, channel.secret, settings.alert_timeout_s).send(
            body, key, int(now.timestamp())
        )
    else:
        Email(channel.target, settings).send(message.subject, message.body, key)
