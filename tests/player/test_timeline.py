"""Rotation, lockstep and what the screen shows when, as a pure function of manifest and time."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from player.manifest import Manifest, parse_manifest
from player.timeline import now_playing, required_assets, upcoming_assets
from tests.player.fakes import BLUE, DAY0, GREEN, RED, WHITE, manifest_body, png, segment, sha

A, B, C, D = png(RED), png(GREEN), png(BLUE), png(WHITE)
S = timedelta(seconds=1)
DAY = timedelta(days=1)


def rotation(anchor: datetime | None = None) -> Manifest:
    """Day 1: A 10 s, B 5 s, C 15 s (cycle 30 s); day 2: D alone."""
    return parse_manifest(
        manifest_body(
            [
                segment(
                    DAY0, DAY0 + DAY, "week", [(A, 10_000), (B, 5_000), (C, 15_000)], anchor=anchor
                ),
                segment(DAY0 + DAY, DAY0 + 2 * DAY, "finance-day", [(D, 8_000)]),
            ],
            [A, B, C, D],
        )
    )


def shown(manifest: Manifest, t: datetime, **kw: object) -> str | None:
    return now_playing(manifest, t, **kw).asset  # type: ignore[arg-type]


def test_items_follow_cumulative_durations_from_the_anchor() -> None:
    m = rotation()
    assert shown(m, DAY0) == sha(A)
    assert shown(m, DAY0 + 9.999 * S) == sha(A)
    assert shown(m, DAY0 + 10 * S) == sha(B)
    assert shown(m, DAY0 + 14.999 * S) == sha(B)
    assert shown(m, DAY0 + 15 * S) == sha(C)
    assert shown(m, DAY0 + 30 * S) == sha(A)  # the cycle wraps
    assert shown(m, DAY0 + 3 * 3600 * S + 12 * S) == sha(B)


def test_slot_gives_item_bounds_and_next_change() -> None:
    slot = now_playing(rotation(), DAY0 + 3600 * S + 12 * S)
    assert slot.item_index == 1 and slot.playlist == "week"
    assert slot.start == DAY0 + 3610 * S
    assert slot.end == DAY0 + 3615 * S
    assert slot.occurrence == (0, 120, 1)


def test_the_change_at_the_segment_end_comes_first() -> None:
    slot = now_playing(rotation(), DAY0 + DAY - 2 * S)  # C would run 13 s more
    assert slot.asset == sha(C)
    assert slot.end == DAY0 + DAY
    assert shown(rotation(), DAY0 + DAY) == sha(D)  # the theme day changes at midnight


def test_an_anchor_before_the_segment_continues_the_rotation() -> None:
    m = rotation(anchor=DAY0 - 12 * S)  # the occurrence started 12 s before this segment
    slot = now_playing(m, DAY0)
    assert slot.asset == sha(B)
    assert slot.start == DAY0  # clipped to the segment
    assert slot.end == DAY0 + 3 * S


def test_a_restart_resumes_on_the_right_item() -> None:
    m = rotation()
    before = now_playing(m, DAY0 + 92 * S)
    after_reboot = now_playing(rotation(), DAY0 + 97 * S)  # a fresh parse, a later instant
    assert before.asset == after_reboot.asset == sha(A)
    assert before.occurrence == after_reboot.occurrence


def test_past_the_horizon_the_last_playlist_goes_on() -> None:
    m = rotation()
    late = DAY0 + 5 * DAY + 3 * S
    slot = now_playing(m, late)
    assert slot.asset == sha(D) and slot.playlist == "finance-day"
    assert slot.end is not None and slot.end == late + 5 * S  # still rotating on its anchor
    assert now_playing(m, slot.end).occurrence != slot.occurrence


def test_before_the_manifest_starts_its_first_segment_applies() -> None:
    assert shown(rotation(), DAY0 - 20 * S) == sha(B)  # rotation from the anchor, backwards


def test_nothing_scheduled_is_the_idle_card_until_the_segment_ends() -> None:
    m = parse_manifest(
        manifest_body(
            [
                segment(DAY0, DAY0 + DAY, None),
                segment(DAY0 + DAY, DAY0 + 2 * DAY, "week", [(A, 5_000)]),
            ],
            [A],
        )
    )
    slot = now_playing(m, DAY0 + 3600 * S)
    assert slot.item is None and slot.playlist is None and slot.occurrence is None
    assert slot.end == DAY0 + DAY
    assert now_playing(m, DAY0 + 5 * DAY).end is not None  # the last playlist rotates


def test_an_undisplayable_item_keeps_the_previous_one_on_screen() -> None:
    m = rotation()

    def ok(s: str) -> bool:
        return s != sha(B)

    slot = now_playing(m, DAY0 + 12 * S, displayable=ok)  # B's span
    assert slot.asset == sha(A)
    assert slot.occurrence == (0, 0, 0)  # the same play of A goes on
    assert slot.start == DAY0 and slot.end == DAY0 + 15 * S  # until C starts
    assert now_playing(m, DAY0 + 5 * S, displayable=ok).end == DAY0 + 15 * S
    wrap = now_playing(m, DAY0 + 31 * S, displayable=lambda s: s == sha(C))
    assert wrap.asset == sha(C) and wrap.occurrence == (0, 0, 2)  # held across the wrap
    assert wrap.end == DAY0 + 45 * S


def test_nothing_displayable_shows_the_idle_card_never_a_blank() -> None:
    slot = now_playing(rotation(), DAY0 + 12 * S, displayable=lambda s: False)
    assert slot.item is None and slot.playlist == "week"
    assert slot.end == DAY0 + DAY


def test_upcoming_assets_are_ordered_by_first_appearance() -> None:
    m = rotation()
    order = upcoming_assets(m, DAY0 + 12 * S)
    assert [s for _, s in order] == [sha(B), sha(C), sha(A), sha(D)]
    assert order[0][0] == DAY0 + 12 * S  # on screen now
    assert order[2][0] == DAY0 + 30 * S
    assert order[3][0] == DAY0 + DAY


def test_required_assets_cover_the_lookahead_only() -> None:
    m = rotation()
    assert required_assets(m, DAY0 + 12 * S, timedelta(hours=2)) == {sha(A), sha(B), sha(C)}
    assert required_assets(m, DAY0 + DAY - 60 * S, timedelta(hours=2)) == {
        sha(A),
        sha(B),
        sha(C),
        sha(D),
    }
    assert required_assets(m, DAY0 + 11 * S, timedelta(seconds=2)) == {sha(B)}


durations = st.lists(st.integers(min_value=1, max_value=90_000), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    durations,
    st.integers(min_value=-86_400_000, max_value=86_400_000),
    st.integers(min_value=0, max_value=86_399_999),
)
def test_rotation_matches_walking_the_playlist(
    ms: list[int], anchor_shift_ms: int, at_ms: int
) -> None:
    media = [png((i * 30, 0, 0)) for i in range(len(ms))]
    anchor = DAY0 + timedelta(milliseconds=anchor_shift_ms)
    m = parse_manifest(
        manifest_body(
            [segment(DAY0, DAY0 + DAY, "p", list(zip(media, ms, strict=True)), anchor=anchor)],
            media,
        )
    )
    t = DAY0 + timedelta(milliseconds=at_ms)
    slot = now_playing(m, t)
    # Reference: walk item by item from the anchor.
    cycle = sum(ms)
    elapsed_ms = (t - anchor) // timedelta(milliseconds=1)
    start = anchor + timedelta(milliseconds=elapsed_ms // cycle * cycle)
    i = 0
    while start + timedelta(milliseconds=ms[i]) <= t:
        start += timedelta(milliseconds=ms[i])
        i = (i + 1) % len(ms)
    assert slot.asset == sha(media[i])
    # The only segment is also the last: its rotation is not cut at its end.
    assert slot.start == max(start, DAY0)
    assert slot.end == start + timedelta(milliseconds=ms[i])
