"""Line-breaking rules, on a fixed-width measure (every character 10 units wide)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.media.linebreak import CLOSING, OPENING, wrap


def measure(text: str) -> float:
    return 10.0 * len(text)


def test_cjk_breaks_between_any_characters() -> None:
    assert wrap("网络安全为人民网络安全靠人民", measure, 50) == [
        "网络安全为",
        "人民网络安",
        "全靠人民",
    ]


def test_closing_punctuation_never_starts_a_line() -> None:
    # "，" would start line 2; "民" moves down with it instead.
    assert wrap("网络安全为人民，网络安全靠人民", measure, 70) == [
        "网络安全为人",
        "民，网络安全靠",
        "人民",
    ]


def test_opening_punctuation_never_ends_a_line() -> None:
    assert wrap("我们说《网络安全法》", measure, 40) == ["我们说", "《网络安", "全法》"]


def test_latin_breaks_at_spaces_only_and_long_words_overflow() -> None:
    assert wrap("Cybersecurity for the people", measure, 80) == [
        "Cybersecurity",
        "for the",
        "people",
    ]
    assert wrap("well-known (word)", measure, 60) == ["well-known", "(word)"]


def test_mixed_text() -> None:
    assert wrap("网络安全为人民 Cybersecurity for the people", measure, 140) == [
        "网络安全为人民",
        "Cybersecurity",
        "for the people",
    ]
    # No space is needed between CJK and Latin for a break.
    assert wrap("安全ABC", measure, 30) == ["安全", "ABC"]


def test_explicit_newlines_are_kept() -> None:
    assert wrap("网络安全\n\n为人民", measure, 1000) == ["网络安全", "", "为人民"]


def test_ellipsis_and_dashes_stay_whole() -> None:
    assert wrap("等待……网络", measure, 30) == ["等待", "……网", "络"]


def test_phrases_keep_words_between_punctuation() -> None:
    assert wrap("网络安全为人民，网络安全靠人民", measure, 80, phrases=True) == [
        "网络安全为人民，",
        "网络安全靠人民",
    ]


CJK = "网络安全为人民靠我们说法"
PUNCTUATION = "，。、！？；：”’）》」』】,.!?;:)“‘（《「『【("
texts = st.text(alphabet=st.sampled_from(CJK + PUNCTUATION + " \n"), max_size=60)
widths = st.integers(min_value=10, max_value=200).map(float)


@given(texts, widths, st.booleans())
def test_punctuation_rules_hold(text: str, width: float, phrases: bool) -> None:
    for paragraph, lines in zip(text.split("\n"), _paragraphs(text, width, phrases), strict=True):
        if not paragraph.strip():
            assert lines == [""]
            continue
        for index, line in enumerate(lines):
            assert line and line == line.strip()
            if index > 0:
                assert line[0] not in CLOSING, lines
            if index < len(lines) - 1:
                assert line[-1] not in OPENING, lines
        # Nothing lost or added but the spaces at breaks.
        assert "".join(lines).replace(" ", "") == paragraph.replace(" ", "")


def _paragraphs(text: str, width: float, phrases: bool) -> list[list[str]]:
    return [wrap(paragraph, measure, width, phrases=phrases) for paragraph in text.split("\n")]


@given(st.text(alphabet=st.sampled_from(CJK), min_size=1, max_size=80), widths)
def test_plain_cjk_fills_each_line(text: str, width: float) -> None:
    lines = wrap(text, measure, width)
    assert "".join(lines) == text
    per_line = int(width // 10)
    assert all(len(line) == per_line for line in lines[:-1])
    assert 1 <= len(lines[-1]) <= per_line


@given(
    st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=12), min_size=1, max_size=12),
    widths,
)
def test_latin_lines_are_whole_words(words: list[str], width: float) -> None:
    lines = wrap(" ".join(words), measure, width)
    assert [w for line in lines for w in line.split(" ")] == words
    for line in lines:
        assert measure(line) <= width or " " not in line  # only a lone long word overflows


@pytest.mark.parametrize("text", ["", " ", "\n"])
def test_blank_text(text: str) -> None:
    assert wrap(text, measure, 100) == [""] * (text.count("\n") + 1)
