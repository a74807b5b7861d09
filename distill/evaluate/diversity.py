"""Surface statistics of a system's responses: distinct-n (Li et al., 2016), unique openings, length.

All are corpus-level over one system's responses. Tokens are lowercased words and apostrophe contractions
(`[\\w']+`), so punctuation and casing never count as diversity.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence

_TOKEN = re.compile(r"[\w']+")
OPENING_TOKENS = 3  # a response's "opening" is its first three tokens ("i'm so sorry", "that sounds like")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def distinct_n(texts: Iterable[str], n: int) -> float | None:
    """Distinct n-grams / all n-grams over every text; None when no text has n tokens."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        toks = tokens(text)
        for i in range(len(toks) - n + 1):
            seen.add(tuple(toks[i : i + n]))
            total += 1
    return len(seen) / total if total else None


def unique_openings(texts: Sequence[str], k: int = OPENING_TOKENS) -> float | None:
    """Distinct openings (first `k` tokens) / responses: 1.0 when no two responses start alike."""
    if not texts:
        return None
    return len({tuple(tokens(t)[:k]) for t in texts}) / len(texts)


def length_stats(texts: Sequence[str]) -> dict[str, float | None]:
    words = [len(tokens(t)) for t in texts]
    chars = [len(t) for t in texts]
    if not texts:
        return {"words_mean": None, "words_median": None, "chars_mean": None}
    return {
        "words_mean": round(statistics.fmean(words), 3),
        "words_median": float(statistics.median(words)),
        "chars_mean": round(statistics.fmean(chars), 3),
    }


def diversity_metrics(texts: Sequence[str]) -> dict[str, float | None]:
    d1, d2 = distinct_n(texts, 1), distinct_n(texts, 2)
    uo = unique_openings(texts)
    return {
        "distinct_1": None if d1 is None else round(d1, 4),
        "distinct_2": None if d2 is None else round(d2, 4),
        "unique_openings": None if uo is None else round(uo, 4),
    }
