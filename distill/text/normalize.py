"""Text forms shared by duplicate checks and cue counts: a normalized form, and a text's sentences."""

from __future__ import annotations

import re
import string
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")  # punctuation, symbols and whitespace runs (Unicode-aware, in C)
_ASCII_PUNCT = str.maketrans({c: " " for c in string.punctuation})
SENTENCE_SPLIT = re.compile(r"(?<=[.!?。！？])\s*|\n+")


def normalize_text(text: str) -> str:
    """Case-, width- and punctuation-insensitive form of a text, for duplicate checks."""
    if text.isascii():  # the common case, 3x faster than Unicode normalization + regex
        return " ".join(text.lower().translate(_ASCII_PUNCT).split())
    return " ".join(_NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).lower()).split())


def sentences(text: str) -> list[str]:
    """The text cut after sentence-ending punctuation (Latin and CJK) and at line breaks; blank pieces dropped."""
    return [s for s in SENTENCE_SPLIT.split(text) if s and s.strip()]
