"""Line breaking for slogans: CJK between characters, Latin at spaces, with kinsoku rules.

Pure: the caller supplies `measure(text) -> width` (a font's `getlength`, or a fixed-width
stand-in in tests), so the rules are testable without any font.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

Measure = Callable[[str], float]

# Never at the start of a line.
CLOSING: Final = frozenset("，。、！？；：”’）》」』】〉〕〗〙〛］｝．,.!?;:)]}")
# Never at the end of a line.
OPENING: Final = frozenset("“‘（《「『【〈〔〖〘〚［｛([{")

_CJK_RANGES: Final = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x31FF),  # Bopomofo, Hangul compatibility Jamo, Katakana extensions
    (0x3200, 0x4DBF),  # enclosed CJK, compatibility, extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended A
    (0xAC00, 0xD7FF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # half- and fullwidth forms
    (0x20000, 0x3FFFF),  # supplementary ideographic planes
)


def is_cjk(ch: str) -> bool:
    """True for a character a line may break before or after (ideographs, kana, CJK marks)."""
    code = ord(ch)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def _chunks(paragraph: str) -> list[str]:
    """Split into chunks: a run of spaces, one CJK character, or a run of anything else.

    Two adjacent non-space chunks are separate only where one side is CJK, which is
    exactly where a break may fall without a space (Latin words, "……" and "——" stay whole).
    """
    chunks: list[str] = []
    for ch in paragraph:
        if chunks:
            tail = chunks[-1][-1]
            if (ch.isspace() and tail.isspace()) or (
                not ch.isspace() and not tail.isspace() and not is_cjk(ch) and not is_cjk(tail)
            ):
                chunks[-1] += ch
                continue
        chunks.append(ch)
    return chunks


@dataclass
class _Unit:
    """Text that must stay on one line, and the space (if any) before it."""

    text: str
    space_before: str


def _units(paragraph: str, phrases: bool) -> list[_Unit]:
    """Group chunks into units, merging wherever a break is forbidden.

    With `phrases`, two CJK characters also stay together unless punctuation separates
    them: breaks fall only at spaces, after closing or before opening punctuation, and
    between CJK and other scripts.
    """
    units: list[_Unit] = []
    pending_space = ""
    glue_next = False  # the previous unit ends with opening punctuation
    for chunk in _chunks(paragraph):
        if chunk[0].isspace():
            pending_space += chunk
            continue
        tail = units[-1].text[-1] if units else ""
        inside_phrase = (
            phrases
            and bool(tail)
            and not pending_space
            and is_cjk(tail)
            and is_cjk(chunk[0])
            and tail not in CLOSING
            and chunk[0] not in OPENING
        )
        if units and (glue_next or chunk[0] in CLOSING or inside_phrase):
            # No break here: keep the chunk (and any space) on the previous unit's line.
            units[-1].text += pending_space + chunk
        else:
            units.append(_Unit(chunk, pending_space))
        pending_space = ""
        glue_next = chunk[-1] in OPENING
    return units


def wrap(text: str, measure: Measure, max_width: float, *, phrases: bool = False) -> list[str]:
    """Break `text` into lines no wider than `max_width` where the rules allow.

    Explicit newlines are kept (an empty line stays empty). Between two CJK characters a
    break is allowed unless it would start a line with closing punctuation or end one with
    opening punctuation; such a character moves to the next line with its neighbour.
    Latin text breaks at spaces only; a word wider than the line is left to overflow, for
    the caller to shrink. Spaces at a break are dropped. `phrases` keeps runs of CJK
    between punctuation whole (see `_units`), for callers that prefer it when it costs
    little size.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        units = _units(paragraph, phrases)
        if not units:
            lines.append("")
            continue
        line = units[0].text
        for unit in units[1:]:
            candidate = line + unit.space_before + unit.text
            if measure(candidate) <= max_width:
                line = candidate
            else:
                lines.append(line)
                line = unit.text
        lines.append(line)
    return lines
