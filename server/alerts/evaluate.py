"""The job that watches the fleet: each rule against each screen's last report, incidents
opened once and resolved once, and the outbox rows of their messages.

Run by the job runner once per tick across nodes; the unique keys (one live incident per
screen and kind, one notification per incident, channel and event) hold even if not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.alerts import conditions
from server.alerts.conditions import Expected, Observation
from server.alerts.models import AlertChannel, AlertKind, AlertRule, Event, Incident, Notification
from server.campaigns.publications import load_published, rules_as_of, screens_facts
from server.config import Settings
from server.delivery.fingerprint import fingerprint
from server.media.profiles import parse_profiles
from server.scheduling import Schedule
from server.screens.devices import DeviceScreen
from server.screens.models import Screen
from server.screens.services import is_online

KEEP_RESOLVED = timedelta(days=90)


@dataclass
class Summary:
    opened: int = 0
    resolved: int = 0
    queued: int = 0

    def __str__(self) -> str:
        return (
            f"{self.opened} incidents opened, {self.resolved} resolved, "
            f"{self.queued} notifications queued"
        )


def live_key(screen_id: int, kind: AlertKind) -> str:
    return f"{screen_id}:{kind.value}"


def nearest_rules(
    path: Sequence[int], rules: dict[tuple[int, AlertKind], AlertRule]
) -> dict[AlertKind, AlertRule]:
    """Per kind, the rule of the nearest organisation on `path` (root first) that has one,
    if enabled: a child's disabled rule switches off its parent's for its subtree."""
    found: dict[AlertKind, AlertRule] = {}
    for kind in AlertKind:
        for org_id in reversed(path):
            rule = rules.get((org_id, kind))
            if rule is not None:
                if rule.enabled:
                    found[kind] = rule
                break
    return found


def evaluate(session: Session, now: datetime, settings: Settings) -> Summary:
    """Observe every seen screen under the rules; open, resolve and queue what changed."""
    rules = {(r.organisation_id, r.kind): r for r in session.scalars(select(AlertRule))}
    channels: dict[int, list[AlertChannel]] = defaultdict(list)
    for channel in session.scalars(select(AlertChannel).where(AlertChannel.enabled.is_(True))):
        channels[channel.organisation_id].append(channel)
    live = {
        (i.screen_id, i.kind): i
        for i in session.scalars(select(Incident).where(Incident.live_key.is_not(None)))
    }
    screens = list(
        session.scalars(select(Screen).where(Screen.last_seen_at.is_not(None)).order_by(Screen.id))
    )
    effective = {s.id: nearest_rules(s.organisation.ancestor_ids, rules) for s in screens}
    online = {s.id: is_online(s.last_seen_at, now, settings) for s in screens}
    watched = [s for s in screens if AlertKind.MISMATCH in effective[s.id] and online[s.id]]
    expected = expected_now(session, watched, now, settings) if watched else {}

    summary = Summary()
    seen: set[tuple[int, AlertKind]] = set()
    for screen in screens:
        status = screen.status if isinstance(screen.status, dict) else {}
        for kind, rule in effective[screen.id].items():
            seen.add((screen.id, kind))
            observed = _observe(screen, kind, rule, status, online[screen.id], expected, now)
            _apply(session, screen, kind, rule, observed, live.get((screen.id, kind)), channels,
                   now, summary)
    for key, incident in live.items():
        if key not in seen:  # the rule was removed or switched off, or the screen unseen
            _close(session, incident, channels, now, summary, None)
    # Old incidents go, and their outbox rows with them (ON DELETE CASCADE).
    session.execute(delete(Incident).where(Incident.resolved_at < now - KEEP_RESOLVED))
    return summary


def _observe(
    screen: Screen,
    kind: AlertKind,
    rule: AlertRule,
    status: dict[str, Any],
    online: bool,
    expected: dict[int, Expected],
    now: datetime,
) -> Observation:
    assert screen.last_seen_at is not None
    if kind is AlertKind.OFFLINE:
        return conditions.offline(screen.last_seen_at, online, now, rule)
    if not online:
        return conditions.UNKNOWN  # an old report says nothing of now
    if kind is AlertKind.ERRORS:
        return conditions.errors(status)
    if kind is AlertKind.STORAGE:
        return conditions.storage(status, rule)
    want = expected.get(screen.id)
    return conditions.mismatch(status, want) if want else conditions.UNKNOWN


def _apply(
    session: Session,
    screen: Screen,
    kind: AlertKind,
    rule: AlertRule,
    observed: Observation,
    incident: Incident | None,
    channels: dict[int, list[AlertChannel]],
    now: datetime,
    summary: Summary,
) -> None:
    if observed.holds is None:
        return
    if not observed.holds:
        if incident is not None:
            _close(session, incident, channels, now, summary, screen)
        return
    if incident is None:
        incident = Incident(
            screen_id=screen.id,
            organisation_id=screen.organisation_id,
            kind=kind,
            live_key=live_key(screen.id, kind),
            since=observed.since or now,
            detail=observed.detail[:500],
        )
        session.add(incident)
    elif incident.opened_at is None:
        incident.detail = observed.detail[:500]
    if incident.opened_at is None and (now - incident.since).total_seconds() >= rule.minutes * 60:
        incident.opened_at = now
        session.flush()
        summary.opened += 1
        summary.queued += _queue(session, incident, screen, Event.OPENED, channels, now)


def _close(
    session: Session,
    incident: Incident,
    channels: dict[int, list[AlertChannel]],
    now: datetime,
    summary: Summary,
    screen: Screen | None,
) -> None:
    if incident.opened_at is None:  # never opened: nobody was told, nobody needs to be
        session.delete(incident)
        return
    incident.resolved_at = now
    incident.live_key = None
    summary.resolved += 1
    screen = screen or session.get(Screen, incident.screen_id)
    if screen is not None:
        summary.queued += _queue(session, incident, screen, Event.RESOLVED, channels, now)


def _queue(
    session: Session,
    incident: Incident,
    screen: Screen,
    event: Event,
    channels: dict[int, list[AlertChannel]],
    now: datetime,
) -> int:
    """One outbox row per channel of the screen's organisation and its ancestors."""
    payload = incident_payload(incident, screen)
    targets = [c for org_id in screen.organisation.ancestor_ids for c in channels.get(org_id, ())]
    for channel in targets:
        session.add(
            Notification(
                incident_id=incident.id,
                channel_id=channel.id,
                event=event,
                created_at=now,
                next_attempt_at=now,
                payload=payload,
            )
        )
    session.flush()
    return len(targets)


def incident_payload(incident: Incident, screen: Screen) -> dict[str, Any]:
    """What a message says of one incident (JSON-ready; fixed when the event happens)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat().replace("+00:00", "Z") if value else None

    return {
        "incident": incident.id,
        "kind": incident.kind.value,
        "screen_id": screen.id,
        "screen": screen.name,
        "organisation": screen.organisation.name,
        "detail": incident.detail,
        "since": iso(incident.since),
        "opened_at": iso(incident.opened_at),
        "resolved_at": iso(incident.resolved_at),
    }


def expected_now(
    session: Session, screens: Iterable[Screen], now: datetime, settings: Settings
) -> dict[int, Expected]:
    """Per screen, the manifest ETag a poll would answer now and the playlist due now."""
    screens = list(screens)
    content = load_published(session, now)
    schedule = Schedule(rules_as_of(content.rules, now))
    profiles = tuple(parse_profiles(settings.screen_profiles))
    due: dict[Any, str | None] = {}
    out: dict[int, Expected] = {}
    for screen, facts in zip(screens, screens_facts(session, screens, content), strict=True):
        device = DeviceScreen(
            id=screen.id,
            name=screen.name,
            organisation_id=screen.organisation_id,
            org_path=screen.organisation.path,
            timezone=screen.timezone,
            width=screen.width,
            height=screen.height,
            tags=tuple(sorted(str(t) for t in screen.tags or ())),
            command_seq=screen.command_seq,
            groups=tuple(sorted(facts.groups)),
        )
        etag = fingerprint(device, content.version, now, settings, profiles).etag
        key = schedule.screen_key(facts)
        if key not in due:
            segment = schedule.resolve(facts, now).segment
            playlist = content.playlists.get(segment.playlist) if segment.playlist else None
            due[key] = playlist.name if playlist is not None and playlist.items else None
        out[screen.id] = Expected(etag, due[key])
    return out
