"""Screen profiles: parsing and choosing one for a screen."""

from __future__ import annotations

import pytest

from server.media.errors import InvalidMediaRequest
from server.media.profiles import DEFAULT_PROFILES, Profile, parse_profiles, profile_for

PROFILES = parse_profiles(DEFAULT_PROFILES)


def test_parse_profiles() -> None:
    assert PROFILES == (
        Profile(1920, 1080),
        Profile(1080, 1920),
        Profile(3840, 2160),
        Profile(1280, 720),
    )
    assert [p.orientation for p in PROFILES] == ["landscape", "portrait", "landscape", "landscape"]
    assert parse_profiles([" 800 x 800", "800X800"]) == (Profile(800, 800),)
    assert Profile(800, 800).orientation == "square" and str(Profile(1, 2)) == "1x2"


@pytest.mark.parametrize("bad", ["1920", "0x1080", "1920x", "-1x5", "20000x100", "axb", ""])
def test_bad_profiles_are_named(bad: str) -> None:
    with pytest.raises(InvalidMediaRequest) as caught:
        parse_profiles(["1920x1080", bad])
    assert [e.field for e in caught.value.errors] == ["screen_profiles[1]"]


@pytest.mark.parametrize(
    ("screen", "expected"),
    [
        ((1920, 1080), (1920, 1080)),  # exact
        ((1366, 768), (1280, 720)),  # nearest landscape by area
        ((2560, 1440), (1920, 1080)),
        ((3000, 2000), (3840, 2160)),
        ((768, 1366), (1080, 1920)),  # the only portrait one
        ((1000, 1000), (1280, 720)),  # no square profile: nearest of any
    ],
)
def test_profile_for(screen: tuple[int, int], expected: tuple[int, int]) -> None:
    assert profile_for(*screen, PROFILES) == Profile(*expected)


def test_profile_for_prefers_same_orientation_over_closer_area() -> None:
    profiles = (Profile(1080, 1920), Profile(3840, 2160))
    assert profile_for(1920, 1080, profiles) == Profile(3840, 2160)


def test_profile_for_needs_profiles() -> None:
    with pytest.raises(InvalidMediaRequest):
        profile_for(10, 10, ())
