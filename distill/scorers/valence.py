"""VADER valence shift: compound sentiment of the seeker's last turn minus their first (-2..2; > 0 = they feel better).

VADER is an English lexicon; for other languages the score is written but near 0, so do not threshold on it there.
"""

from __future__ import annotations

from typing import Any

from distill.filters.dialogue import seeker_turns
from distill.scorers.base import ScoreFailure, scores_of


class ValenceShiftScorer:
    name = "valence_shift"

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def compound(self, text: str) -> float:
        return float(self._vader.polarity_scores(text)["compound"])

    def score(self, records: list[dict[str, Any]]) -> list[ScoreFailure | None]:
        for record in records:
            seeker = seeker_turns(record)
            first = self.compound(seeker[0]) if seeker else 0.0
            last = self.compound(seeker[-1]) if seeker else 0.0
            scores = scores_of(record)
            scores.update({"valence_first": first, "valence_last": last, "valence_shift": last - first})
        return [None] * len(records)
