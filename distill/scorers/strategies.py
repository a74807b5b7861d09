"""Strategy coverage: which of the six support strategies (questioning, comfort, recognition, listening, trust,
emotional support) the supporter's turns show, as a share of all six and of the dialogue's planned strategies."""

from __future__ import annotations

from typing import Any

from distill.filters.dialogue import supporter_turns
from distill.records import STRATEGIES
from distill.scorers.base import ScoreFailure, scores_of
from distill.scorers.lexicon import strategies_used


class StrategyCoverageScorer:
    name = "strategy_coverage"

    def score(self, records: list[dict[str, Any]]) -> list[ScoreFailure | None]:
        for record in records:
            used: set[str] = set()
            for text in supporter_turns(record):
                used |= strategies_used(text)
            scores = scores_of(record)
            scores["strategy_coverage"] = len(used) / len(STRATEGIES)
            planned = set(record.get("strategies") or []) & set(STRATEGIES)
            if planned:  # did the teacher follow the plan it was given?
                scores["strategy_plan_coverage"] = len(used & planned) / len(planned)
        return [None] * len(records)
