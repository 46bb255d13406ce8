"""Pairing codes: six characters a person can read off a screen and type without doubt."""

from __future__ import annotations

import secrets
from typing import Final

# No 0/O, 1/I/L: nothing that reads as something else on a far screen.
ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH: Final = 6


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise_code(typed: str) -> str:
    """What an operator typed, as a code: upper case, spaces and dashes dropped, O→0 etc. not
    guessed (those letters are never issued, so a mistyped one simply does not match)."""
    return "".join(c for c in typed.upper() if c not in " -\t")


def is_code(value: str) -> bool:
    return len(value) == LENGTH and all(c in ALPHABET for c in value)
