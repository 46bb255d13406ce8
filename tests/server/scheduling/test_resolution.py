"""Worked examples of resolution: takeovers, ties, scoping, groups, defaults, bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from server.scheduling import (
    DailyWindow,
    InvalidSchedule,
    Layer,
    Rule,
    Schedule,
    ScreenFacts,
    Specificity,
    Targets,
    WinReason,
    check_rule,
    find_conflicts,
    resolve,
    screen_key,
    specificity,
    timeline,
    why_first,
)

DAY = date(2024, 9, 2)  # a Monday
SHANGHAI_MIDNIGHT = datetime(2024, 9, 1, 16, tzinfo=UTC)
NEXT_MIDNIGHT = SHANGHAI_MIDNIGHT + timedelta(days=1)
# Organisations: 1 province ▸ 2 city A ▸ 4 school; 1 ▸ 3 city B.
SCHOOL_SCREEN = ScreenFacts(
    id=40,
    org_path=(1, 2, 4),
    timezone="Asia/Shanghai",
    groups=frozenset({7, 70}),  # campus (7) and its sub-group lobby (70)
    tags=frozenset({"portrait"}),
    default_playlist="school-default",
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def rule(rule_id: str, **fields: object) -> Rule:
    base = Rule(
        id=rule_id,
        playlist=f"{rule_id}-list",
        owner_org=1,
        targets=Targets(everyone=True),
        first_date=DAY,
        last_date=DAY,
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def day_of(rules: list[Rule], screen: ScreenFacts = SCHOOL_SCREEN) -> list[tuple[object, ...]]:
    segments = timeline(rules, screen, SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT)
    return [(s.start, s.end, s.rule, s.playlist, s.beaten, s.conflict) for s in segments]


# --- the resolution order ------------------------------------------------------------------------


def test_takeover_inside_a_theme_day_then_the_theme_day_resumes() -> None:
    theme = rule("telecom-day", priority=5)
    alert = rule(
        "alert",
        layer=Layer.TAKEOVER,
        interval=(utc(2024, 9, 2, 2), utc(2024, 9, 2, 2, 30)),
    )
    segments = timeline([theme, alert], SCHOOL_SCREEN, SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT)
    assert [(s.start, s.end, s.rule, s.beaten) for s in segments] == [
        (SHANGHAI_MIDNIGHT, utc(2024, 9, 2, 2), "telecom-day", ()),
        (utc(2024, 9, 2, 2), utc(2024, 9, 2, 2, 30), "alert", ("telecom-day",)),
        (utc(2024, 9, 2, 2, 30), NEXT_MIDNIGHT, "telecom-day", ()),
    ]
    # Rotation resumes where it would have been: the theme day keeps its own anchor.
    assert segments[0].anchor == segments[2].anchor == SHANGHAI_MIDNIGHT
    assert segments[1].anchor == utc(2024, 9, 2, 2)


def test_higher_priority_beats_more_specific() -> None:
    broad = rule("broad", priority=2)
    precise = rule("precise", priority=1, targets=Targets(screens=frozenset({40})))
    assert day_of([precise, broad])[0][2:5] == ("broad", "broad-list", ("precise",))


def test_more_specific_wins_a_priority_tie_without_conflict() -> None:
    ranks = [
        rule("all"),
        rule("org", targets=Targets(organisations=frozenset({2}))),
        rule("tag", targets=Targets(tags=frozenset({"portrait"}))),
        rule("group", targets=Targets(groups=frozenset({7}))),
        rule("screen", targets=Targets(screens=frozenset({40}))),
    ]
    ((_, _, winner, _, beaten, conflict),) = day_of(ranks)
    assert (winner, beaten, conflict) == ("screen", ("group", "tag", "org", "all"), False)


def test_tie_is_settled_by_publication_and_reported_as_a_conflict() -> None:
    older = rule("older", published_at=utc(2024, 8, 1))
    newer = rule("newer", published_at=utc(2024, 8, 2))
    never = rule("never")  # never published counts as the oldest
    ((_, _, winner, _, beaten, conflict),) = day_of([older, never, newer])
    assert (winner, beaten, conflict) == ("newer", ("older", "never"), True)

    (found,) = find_conflicts(
        [older, never, newer], [SCHOOL_SCREEN], SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT
    )
    assert (found.screen, found.start, found.end) == (40, SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT)
    assert (found.winner, found.rules) == ("newer", ("newer", "older", "never"))
    assert "published most recently" in found.detail


def test_same_publication_falls_back_to_the_rule_id() -> None:
    b = rule("b", published_at=utc(2024, 8, 1))
    a = rule("a", published_at=utc(2024, 8, 1))
    ((_, _, winner, _, _, conflict),) = day_of([b, a])
    assert (winner, conflict) == ("a", True)
    (found,) = find_conflicts([a, b], [SCHOOL_SCREEN], SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT)
    assert "rule id" in found.detail


def test_conflicts_only_where_the_tied_rules_overlap_and_are_merged() -> None:
    morning = rule("morning", windows=(DailyWindow(time(8), time(12)),))
    late = rule("late", windows=(DailyWindow(time(10), time(11)), DailyWindow(time(11), time(13))))
    found = find_conflicts([morning, late], [SCHOOL_SCREEN], SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT)
    # 10:00-12:00 Shanghai: one stretch although `late` has two occurrences in it.
    assert [(c.start, c.end, c.winner) for c in found] == [
        (utc(2024, 9, 2, 2), utc(2024, 9, 2, 4), "late")
    ]


def test_no_conflict_reported_for_different_specificity_or_layer() -> None:
    rules = [
        rule("a"),
        rule("b", targets=Targets(groups=frozenset({7}))),
        rule("c", layer=Layer.TAKEOVER),
    ]
    assert find_conflicts(rules, [SCHOOL_SCREEN], SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT) == []


def test_conflicts_for_many_screens_are_per_screen() -> None:
    twins = [rule("x"), rule("y")]
    other = replace(SCHOOL_SCREEN, id=41)
    sibling = replace(SCHOOL_SCREEN, id=30, org_path=(1, 3))
    found = find_conflicts(twins, [other, SCHOOL_SCREEN, sibling], SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT)
    assert [c.screen for c in found] == [30, 40, 41]


# --- who a rule reaches -------------------------------------------------------------------------


def test_content_never_reaches_a_sibling_organisation() -> None:
    city_b = rule("city-b", owner_org=3)
    pointed = rule(
        "city-b-pointed",
        owner_org=3,
        targets=Targets(screens=frozenset({40}), groups=frozenset({7})),
    )
    assert specificity(city_b, SCHOOL_SCREEN) is None
    assert specificity(pointed, SCHOOL_SCREEN) is None
    ((_, _, winner, playlist, _, _),) = day_of([city_b, pointed])
    assert (winner, playlist) == (None, "school-default")


def test_content_never_reaches_an_ancestor_organisation() -> None:
    school = rule("school", owner_org=4)
    city_screen = replace(SCHOOL_SCREEN, org_path=(1, 2))
    assert specificity(school, city_screen) is None
    assert specificity(school, SCHOOL_SCREEN) is Specificity.ALL


def test_targeting_an_organisation_reaches_its_descendants() -> None:
    city_a = rule("city-a", targets=Targets(organisations=frozenset({2})))
    assert specificity(city_a, SCHOOL_SCREEN) is Specificity.ORGANISATION
    assert specificity(city_a, replace(SCHOOL_SCREEN, org_path=(1, 3))) is None


def test_nested_groups_reach_members_of_sub_groups() -> None:
    campus = rule("campus", targets=Targets(groups=frozenset({7})))
    lobby = rule("lobby", targets=Targets(groups=frozenset({70})), published_at=utc(2024, 8, 1))
    assert specificity(campus, SCHOOL_SCREEN) is Specificity.GROUP
    not_in_lobby = replace(SCHOOL_SCREEN, groups=frozenset({7}))
    assert day_of([campus, lobby], not_in_lobby)[0][2] == "campus"
    assert day_of([campus, lobby])[0][2:6] == ("lobby", "lobby-list", ("campus",), True)


def test_rule_with_no_targets_reaches_nobody() -> None:
    assert specificity(rule("none", targets=Targets()), SCHOOL_SCREEN) is None


# --- defaults and anchors ----------------------------------------------------------------------


def test_default_playlist_fills_the_gaps_anchored_at_local_midnight() -> None:
    evening = rule("evening", windows=(DailyWindow(time(18), time(20)),))
    segments = timeline([evening], SCHOOL_SCREEN, SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT)
    assert [(s.rule, s.playlist, s.anchor) for s in segments] == [
        (None, "school-default", SHANGHAI_MIDNIGHT),
        ("evening", "evening-list", utc(2024, 9, 2, 10)),
        (None, "school-default", SHANGHAI_MIDNIGHT),
    ]


def test_without_a_default_the_screen_is_idle() -> None:
    idle = replace(SCHOOL_SCREEN, default_playlist=None)
    ((_, _, winner, playlist, beaten, conflict),) = day_of([], idle)
    assert (winner, playlist, beaten, conflict) == (None, None, (), False)


def test_resolve_gives_the_segment_and_the_next_change() -> None:
    evening = rule("evening", windows=(DailyWindow(time(18), time(20)),))
    at = utc(2024, 9, 2, 11)  # 19:00 in Shanghai
    found = resolve([evening], SCHOOL_SCREEN, at)
    assert (found.segment.rule, found.segment.start) == ("evening", utc(2024, 9, 2, 10))
    assert found.next_change == found.segment.end == utc(2024, 9, 2, 12)
    after = resolve([evening], SCHOOL_SCREEN, found.next_change)
    assert (after.segment.rule, after.next_change) == (None, NEXT_MIDNIGHT)


def test_resolve_finds_a_long_interval_beyond_its_first_look() -> None:
    month = rule("month", interval=(utc(2024, 9, 1), utc(2024, 10, 1)))
    found = resolve([month], SCHOOL_SCREEN, utc(2024, 9, 15))
    assert (found.segment.start, found.next_change) == (utc(2024, 9, 1), utc(2024, 10, 1))


def test_screen_key_ignores_what_no_rule_looks_at() -> None:
    rules = [rule("campus", targets=Targets(groups=frozenset({7})))]
    schedule = Schedule(rules)
    other = replace(SCHOOL_SCREEN, id=99, groups=frozenset({7, 123}), tags=frozenset())
    assert schedule.screen_key(other) == schedule.screen_key(SCHOOL_SCREEN)
    assert screen_key(other, rules) == screen_key(SCHOOL_SCREEN, rules)
    named = [*rules, rule("one", targets=Targets(screens=frozenset({40})))]
    assert screen_key(other, named) != screen_key(SCHOOL_SCREEN, named)
    assert screen_key(replace(other, timezone="UTC"), rules) != screen_key(other, rules)
    # the same repr in every process: no sets inside
    many = Schedule([rule("g", targets=Targets(groups=frozenset(range(50))))])
    shuffled = replace(SCHOOL_SCREEN, groups=frozenset(reversed(range(50))))
    assert repr(many.screen_key(shuffled)) == repr(
        many.screen_key(replace(SCHOOL_SCREEN, groups=frozenset(range(50))))
    )
    assert "frozenset" not in repr(many.screen_key(shuffled))


# --- bad input ------------------------------------------------------------------------------------


def test_bad_rules_are_listed_by_field() -> None:
    bad = rule(
        "",
        last_date=date(2024, 9, 1),
        timezone="Mars/Olympus",
        weekdays=frozenset({7}),
        live_from=datetime(2024, 9, 1),
    )
    assert {p.field for p in check_rule(bad)} == {
        "id",
        "last_date",
        "timezone",
        "weekdays",
        "live_from",
    }
    assert check_rule(rule("fine")) == []


@pytest.mark.parametrize(
    ("rules", "screen", "start", "end", "field"),
    [
        ([rule("a"), rule("a")], SCHOOL_SCREEN, SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT, "rules[1].id"),
        (
            [rule("a", interval=(utc(2024, 9, 2), utc(2024, 9, 1)))],
            SCHOOL_SCREEN,
            SHANGHAI_MIDNIGHT,
            NEXT_MIDNIGHT,
            "rules[0].interval.end",
        ),
        (
            [],
            replace(SCHOOL_SCREEN, timezone="Nowhere"),
            SHANGHAI_MIDNIGHT,
            NEXT_MIDNIGHT,
            "screen.timezone",
        ),
        ([], SCHOOL_SCREEN, datetime(2024, 9, 2), NEXT_MIDNIGHT, "start"),
        ([], SCHOOL_SCREEN, NEXT_MIDNIGHT, SHANGHAI_MIDNIGHT, "end"),
    ],
)
def test_bad_input_raises_invalid_schedule_naming_the_field(
    rules: list[Rule], screen: ScreenFacts, start: datetime, end: datetime, field: str
) -> None:
    with pytest.raises(InvalidSchedule) as caught:
        timeline(rules, screen, start, end)
    assert caught.value.field == field
    assert isinstance(caught.value, ValueError)


def test_find_conflicts_refuses_a_screen_it_cannot_place() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        find_conflicts(
            [rule("a")], [replace(SCHOOL_SCREEN, timezone="")], SHANGHAI_MIDNIGHT, NEXT_MIDNIGHT
        )
    assert caught.value.field == "screen.timezone"


def test_an_empty_interval_has_no_segments() -> None:
    assert timeline([rule("a")], SCHOOL_SCREEN, SHANGHAI_MIDNIGHT, SHANGHAI_MIDNIGHT) == []


def test_why_first_names_the_step_of_the_order_that_decided() -> None:
    base = rule("a", published_at=utc(2024, 8, 1))
    spec_all, spec_group = Specificity.ALL, Specificity.GROUP
    cases = [
        (replace(base, layer=Layer.TAKEOVER, priority=-5), spec_all, WinReason.TAKEOVER),
        (replace(base, priority=3), spec_all, WinReason.PRIORITY),
        (base, spec_group, WinReason.SPECIFICITY),
        (replace(base, published_at=utc(2024, 8, 2)), spec_all, WinReason.RECENT_PUBLISH),
        (replace(base, id="0"), spec_all, WinReason.RULE_ID),
    ]
    other = replace(base, id="b")
    for winner, spec, reason in cases:
        assert why_first(winner, spec, other, spec_all) is reason
