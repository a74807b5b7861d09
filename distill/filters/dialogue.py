"""Views of a dialogue record that filters and scorers share: its turns without the system prompt, by role."""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Any


def turns(record: dict[str, Any]) -> list[dict[str, str]]:
    """Messages without a leading system prompt (the conversation the seeker and supporter had)."""
    return [m for m in record.get("messages") or [] if m.get("role") != "system"]


def supporter_turns(record: dict[str, Any]) -> list[str]:
    return [m.get("content") or "" for m in turns(record) if m.get("role") == "assistant"]


def seeker_turns(record: dict[str, Any]) -> list[str]:
    return [m.get("content") or "" for m in turns(record) if m.get("role") == "user"]


_NOT_WORD = re.compile(r"[\W_]+")  # punctuation, symbols and whitespace runs (Unicode-aware, in C)


_ASCII_PUNCT = str.maketrans({c: " " for c in string.punctuation})


def normalize_text(text: str) -> str:
    """Case-, width- and punctuation-insensitive form of a text, for duplicate checks."""
    if text.isascii():  # the common case, 3x faster than Unicode normalization + regex
        return " ".join(text.lower().translate(_ASCII_PUNCT).split())
    return " ".join(_NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).lower()).split())
