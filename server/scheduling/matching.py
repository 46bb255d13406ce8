"""Which rules reach a screen, how specifically, and in what order they win."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import UTC, datetime, timedelta

from server.scheduling.rules import Rule, ScreenFacts, Specificity, WinReason

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

# Best first when sorted ascending: takeover, higher priority, more specific, published
# later (never-published counts as oldest), then the lower rule id.
OrderKey = tuple[int, int, int, int, int, str]
TieGroup = tuple[int, int, int]


def specificity(rule: Rule, screen: ScreenFacts) -> Specificity | None:
    """How precisely `rule` names `screen`, or None when it does not reach it.

    Content only flows down the organisation tree: a rule reaches a screen only when
    its owner is on the screen's organisation path.
    """
    if rule.owner_org not in screen.org_path:
        return None
    targets = rule.targets
    if screen.id in targets.screens:
        return Specificity.SCREEN
    if targets.groups and not targets.groups.isdisjoint(screen.groups):
        return Specificity.GROUP
    if targets.tags and not targets.tags.isdisjoint(screen.tags):
        return Specificity.TAG
    if targets.organisations and not targets.organisations.isdisjoint(screen.org_path):
        return Specificity.ORGANISATION
    if targets.everyone:
        return Specificity.ALL
    return None


def order_key(rule: Rule, spec: Specificity) -> OrderKey:
    """Sort key putting the winning rule first (the documented resolution order)."""
    if rule.published_at is None:
        unpublished, age = 1, 0
    else:
        unpublished, age = 0, (_EPOCH - rule.published_at) // _MICROSECOND
    return (-int(rule.layer), -rule.priority, -int(spec), unpublished, age, rule.id)


def why_first(
    winner: Rule, winner_spec: Specificity, other: Rule, other_spec: Specificity
) -> WinReason:
    """The step of the resolution order at which `winner` beats `other`, by name."""
    if winner.layer != other.layer:
        return WinReason.TAKEOVER
    if winner.priority != other.priority:
        return WinReason.PRIORITY
    if winner_spec != other_spec:
        return WinReason.SPECIFICITY
    if winner.published_at != other.published_at:
        return WinReason.RECENT_PUBLISH
    return WinReason.RULE_ID


def tie_group(rule: Rule, spec: Specificity) -> TieGroup:
    """What two rules must share to be in conflict: layer, priority and specificity."""
    return (int(rule.layer), rule.priority, int(spec))


class TargetIndex:
    """What any of a set of rules looks at in a screen, to key screens that resolve alike."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        orgs: set[int] = set()
        groups: set[int] = set()
        tags: set[str] = set()
        screens: set[int] = set()
        for rule in rules:
            orgs.add(rule.owner_org)
            orgs.update(rule.targets.organisations)
            groups.update(rule.targets.groups)
            tags.update(rule.targets.tags)
            screens.update(rule.targets.screens)
        self._orgs = frozenset(orgs)
        self._groups = frozenset(groups)
        self._tags = frozenset(tags)
        self._screens = frozenset(screens)

    def key(self, screen: ScreenFacts) -> Hashable:
        """Equal for two screens only if every rule treats them alike.

        Only the facts some rule can see count: the zone, the default playlist, the
        organisations, groups and tags that rules name, and the id if a rule names it.
        Built of strings, ints and sorted tuples, so its `repr` is the same in every
        process (fit for an ETag).
        """
        return (
            screen.timezone,
            screen.default_playlist,
            tuple(sorted(self._orgs.intersection(screen.org_path))),
            tuple(sorted(self._groups & screen.groups)),
            tuple(sorted(self._tags & screen.tags)),
            screen.id if screen.id in self._screens else None,
        )
