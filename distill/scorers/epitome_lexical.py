"""Fast offline EPITOME-style scorer: lexical cues for emotional reactions, interpretations and explorations (0/1/2 each).

Writes `epitome_er`, `epitome_ip`, `epitome_ex` (mean level over supporter turns) and `empathy` (their sum, 0..6).
A screening signal at millions of rows per hour, not a replacement for the LLM judge or a trained EPITOME classifier.
"""

from __future__ import annotations

from typing import Any

from distill.filters.dialogue import supporter_turns
from distill.scorers.base import ScoreFailure, EMPATHY, mean, scores_of
from distill.scorers.lexicon import epitome_levels


class LexicalEpitomeScorer:
    name = "epitome_lexical"

    def score(self, records: list[dict[str, Any]]) -> list[ScoreFailure | None]:
        for record in records:
            levels = [epitome_levels(text) for text in supporter_turns(record)]
            er, ip, ex = (mean([lv[k] for lv in levels]) for k in range(3))
            scores = scores_of(record)
            scores.update({"epitome_er": er, "epitome_ip": ip, "epitome_ex": ex, EMPATHY: er + ip + ex})
        return [None] * len(records)
