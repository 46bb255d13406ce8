"""Screen profiles: the few resolutions variants are rendered for ("1920x1080", ...)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from server.media.errors import FieldError, InvalidMediaRequest

Orientation = Literal["landscape", "portrait", "square"]
MAX_SIDE: Final = 16384
DEFAULT_PROFILES: Final = "1920x1080,1080x1920,3840x2160,1280x720"
_PROFILE_RE = re.compile(r"\s*([1-9][0-9]{0,4})\s*[xX×]\s*([1-9][0-9]{0,4})\s*")


@dataclass(frozen=True, order=True)
class Profile:
    """A target resolution; its orientation follows from the two sides."""

    width: int
    height: int

    @property
    def orientation(self) -> Orientation:
        return orientation_of(self.width, self.height)

    @property
    def area(self) -> int:
        return self.width * self.height

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def orientation_of(width: int, height: int) -> Orientation:
    """landscape, portrait or square."""
    if width > height:
        return "landscape"
    if height > width:
        return "portrait"
    return "square"


def parse_profile(value: str, field: str = "profile") -> Profile:
    """Parse "WIDTHxHEIGHT"; InvalidMediaRequest naming `field` otherwise."""
    match = _PROFILE_RE.fullmatch(value) if isinstance(value, str) else None
    if match is not None:
        width, height = int(match.group(1)), int(match.group(2))
        if width <= MAX_SIDE and height <= MAX_SIDE:
            return Profile(width, height)
    raise InvalidMediaRequest(
        f"{value!r} is not a screen profile",
        [FieldError(field, f"must be WIDTHxHEIGHT, each side 1..{MAX_SIDE}")],
    )


def parse_profiles(
    value: str | Iterable[str], field: str = "screen_profiles"
) -> tuple[Profile, ...]:
    """Parse a comma-separated string (or a list) of profiles, deduplicated, in given order."""
    items = value.split(",") if isinstance(value, str) else list(value)
    profiles: list[Profile] = []
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        try:
            profile = parse_profile(item, f"{field}[{index}]")
        except InvalidMediaRequest as exc:
            errors.extend(exc.errors)
            continue
        if profile not in profiles:
            profiles.append(profile)
    if errors:
        raise InvalidMediaRequest(f"invalid {field}", errors)
    if not profiles:
        raise InvalidMediaRequest(f"no {field} given", [FieldError(field, "at least one profile")])
    return tuple(profiles)


def profile_for(width: int, height: int, profiles: Sequence[Profile]) -> Profile:
    """The profile to render for a width x height screen.

    An exact match; else the profile of the same orientation nearest in area (a tie goes
    to the larger one: scaling down looks better than up); else the nearest of any.
    """
    if not profiles:
        raise InvalidMediaRequest(
            "no screen profiles configured", [FieldError("profiles", "empty")]
        )
    wanted = Profile(width, height)
    if wanted in profiles:
        return wanted
    same = [p for p in profiles if p.orientation == wanted.orientation]
    candidates = same or list(profiles)
    return min(candidates, key=lambda p: (abs(p.area - wanted.area), -p.area, p.width))
