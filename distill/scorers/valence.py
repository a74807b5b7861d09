"""VADER valence shift: compound sentiment of the seeker's last turn minus their first (-2..2; > 0 = they feel better).

VADER is an English lexicon; for other languages the score is written but near 0, so do not threshold on it there.
"""

from __future__ import annotations

from typing import Any

from distill.scorers.base import ScoreResult
from distill.text.sentiment import analyzer, compound
from distill.text.turns import Dialogue


class ValenceShiftScorer:
    name = "valence_shift"

    def __init__(self) -> None:
        analyzer()  # load VADER now: a missing package fails when the scorers are built, not mid-shard

    def score(self, records: list[dict[str, Any]]) -> list[ScoreResult]:
        results: list[ScoreResult] = []
        for record in records:
            seeker = Dialogue.of(record).seeker_turns
            first = compound(seeker[0]) if seeker else 0.0
            last = compound(seeker[-1]) if seeker else 0.0
            results.append({"valence_first": first, "valence_last": last, "valence_shift": last - first})
        return results
