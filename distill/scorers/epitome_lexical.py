"""Fast offline EPITOME-style scorer: lexical cues for emotional reactions, interpretations and explorations (0/1/2
each).

Returns `epitome_er`, `epitome_ip`, `epitome_ex` (mean level over supporter turns) and `empathy` (their sum, 0..6).
A screening signal at millions of rows per hour, not a replacement for the LLM judge or a trained EPITOME classifier.
"""

from __future__ import annotations

from typing import Any

from distill.records import EMPATHY
from distill.scorers.base import ScoreResult, mean
from distill.text.lexicon import epitome_levels
from distill.text.turns import Dialogue


class LexicalEpitomeScorer:
    name = "epitome_lexical"

    def score(self, records: list[dict[str, Any]]) -> list[ScoreResult]:
        results: list[ScoreResult] = []
        for record in records:
            levels = [epitome_levels(text) for text in Dialogue.of(record).supporter_turns]
            er, ip, ex = (mean([lv[k] for lv in levels]) for k in range(3))
            results.append({"epitome_er": er, "epitome_ip": ip, "epitome_ex": ex, EMPATHY: er + ip + ex})
        return results
