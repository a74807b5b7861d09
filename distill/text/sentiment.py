"""VADER compound sentiment (-1..1), the one analyzer the valence scorer and evaluation share.

VADER is an English lexicon: other languages come out near 0.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def analyzer() -> Any:
    """The VADER analyzer, loaded once per process (its lexicon takes a moment to read)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compound(text: str) -> float:
    return float(analyzer().polarity_scores(text)["compound"])
