"""Rotation aligned to wall-clock time: boundaries, instants before the anchor, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.scheduling import InvalidSchedule, Rotation, item_at

A = datetime(2024, 9, 2, 16, tzinfo=UTC)
DURATIONS = [10_000, 5_000, 15_000]  # cycle of 30 s
S = timedelta(seconds=1)
US = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0 * S, (0, 10 * S)),
        (10 * S - US, (0, 10 * S)),
        (10 * S, (1, 15 * S)),  # a boundary belongs to the next item
        (15 * S, (2, 30 * S)),
        (30 * S - US, (2, 30 * S)),
        (30 * S, (0, 40 * S)),  # the cycle wraps
        (-1 * S, (2, 0 * S)),  # before the anchor: the end of the previous cycle
        (-30 * S, (0, -20 * S)),
        (-20 * S - US, (0, -20 * S)),
        (timedelta(days=-400) + 12 * S, (1, timedelta(days=-400) + 15 * S)),
    ],
)
def test_item_and_its_end(offset: timedelta, expected: tuple[int, timedelta]) -> None:
    index, end = item_at(A, DURATIONS, A + offset)
    assert (index, end) == (expected[0], A + expected[1])


def test_single_item_ends_at_every_multiple_of_its_duration() -> None:
    assert item_at(A, [7_000], A + 20 * S) == (0, A + 21 * S)
    assert item_at(A, [7_000], A - 20 * S) == (0, A - 14 * S)


def test_restarted_player_lands_on_the_same_item_as_one_that_never_stopped() -> None:
    rotation = Rotation(DURATIONS)
    walked = list(rotation.items(A, A, A + timedelta(minutes=3)))
    assert [i for i, _, _ in walked[:4]] == [0, 1, 2, 0]
    for index, start, end in walked:
        restart = start + (end - start) / 3
        assert rotation.item_at(A, restart) == (index, end)
    # spans are contiguous and cover the interval
    assert walked[0][1] == A and walked[-1][2] == A + timedelta(minutes=3)
    assert all(a[2] == b[1] for a, b in zip(walked, walked[1:], strict=False))


def test_items_are_clipped_to_the_asked_interval() -> None:
    spans = list(Rotation(DURATIONS).items(A, A + 12 * S, A + 20 * S))
    assert spans == [(1, A + 12 * S, A + 15 * S), (2, A + 15 * S, A + 20 * S)]


def test_zones_of_the_inputs_do_not_matter_even_across_a_fold() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 02:30 CEST and 02:30 CET on 2024-10-27 are an hour apart though they read alike.
    first = datetime(2024, 10, 27, 2, 30, tzinfo=berlin)
    second = datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=berlin)
    # An hour later, on a 1 s + 3600 s cycle, is 1 s before the second item ends.
    assert item_at(first, [1_000, 3_600_000], second) == (1, second.astimezone(UTC) + S)
    assert item_at(first, DURATIONS, first) == item_at(first.astimezone(UTC), DURATIONS, first)


@pytest.mark.parametrize("durations", [[], [0], [1_000, -5], [True], [1.5]])
def test_bad_durations_are_refused(durations: list[int]) -> None:
    with pytest.raises(InvalidSchedule):
        item_at(A, durations, A)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(InvalidSchedule) as caught:
        item_at(datetime(2024, 1, 1), DURATIONS, A)
    assert caught.value.field == "anchor"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 120_000), min_size=1, max_size=20),
    st.integers(-(10**13), 10**13),
    st.integers(-5, 5),
)
def test_answer_is_periodic_and_changes_exactly_at_its_end(
    durations: list[int], offset_us: int, cycles: int
) -> None:
    rotation = Rotation(durations)
    at = A + offset_us * US
    index, end = rotation.item_at(A, at)
    assert 0 <= index < len(durations)
    assert at < end <= at + timedelta(milliseconds=durations[index])
    assert rotation.item_at(A, end - US) == (index, end)
    assert rotation.item_at(A, end)[0] == (index + 1) % len(durations)
    shifted = A + cycles * sum(durations) * timedelta(milliseconds=1)
    assert rotation.item_at(shifted, at) == (index, end)
