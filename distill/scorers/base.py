"""Scorers annotate, they never decide: each writes `record["scores"][name]` and a separate threshold filter drops.

`score(records)` works on a batch (the LLM judge and classifiers are batched engines) and returns, per record,
None when it scored it, or `(reason, detail)` when it could not (snake_case reason; the stage turns it into a reject).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from distill.records import scores_dict

ScoreFailure = tuple[str, str]  # (snake_case reason, human-readable detail)
EMPATHY = "empathy"  # the score the dedup keeper rule and `curate.min_empathy` use: EPITOME ER+IP+EX, 0..6 (lexical or classifier)


@runtime_checkable
class Scorer(Protocol):
    name: str

    def score(self, records: list[dict[str, Any]]) -> list[ScoreFailure | None]: ...


def scores_of(record: dict[str, Any]) -> dict[str, float]:
    """The record's scores as a dict, whatever form they came in (shards hold [{name, value}] rows)."""
    scores = record.get("scores")
    if not isinstance(scores, dict):
        scores = scores_dict(scores)
    record["scores"] = scores
    return scores


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
