"""Strategy coverage: which of the six support strategies (questioning, comfort, recognition, listening, trust,
emotional support) the supporter's turns show, as a share of all six and of the dialogue's planned strategies."""

from __future__ import annotations

from typing import Any

from distill.records import STRATEGIES
from distill.scorers.base import ScoreResult
from distill.text.lexicon import strategies_used
from distill.text.turns import Dialogue


class StrategyCoverageScorer:
    name = "strategy_coverage"

    def score(self, records: list[dict[str, Any]]) -> list[ScoreResult]:
        results: list[ScoreResult] = []
        for record in records:
            dialogue = Dialogue.of(record)
            used: set[str] = set()
            for text in dialogue.supporter_turns:
                used |= strategies_used(text)
            scores = {"strategy_coverage": len(used) / len(STRATEGIES)}
            planned = set(dialogue.strategies) & set(STRATEGIES)
            if planned:  # did the teacher follow the plan it was given?
                scores["strategy_plan_coverage"] = len(used & planned) / len(planned)
            results.append(scores)
        return results
