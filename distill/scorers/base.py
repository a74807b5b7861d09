"""Scorers annotate, they never decide: each returns scores by name and a separate threshold filter drops.

`score(records)` works on a batch (the LLM judge and classifiers are batched engines) and returns, per record, its
scores (a dict name -> value) or a `ScoreFailure(reason, detail)` when it could not score it (snake_case reason; the
stage turns it into a reject). A scorer never writes into the record: the caller merges (`merge_scores`).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol, runtime_checkable

from distill.records import scores_dict


class ScoreFailure(NamedTuple):
    reason: str  # snake_case
    detail: str  # human-readable


Scores = dict[str, float]
ScoreResult = Scores | ScoreFailure


@runtime_checkable
class Scorer(Protocol):
    name: str

    def score(self, records: list[dict[str, Any]]) -> list[ScoreResult]: ...


def merge_scores(record: dict[str, Any], scores: Scores) -> None:
    """Add `scores` to the record's own, which become a dict whatever form they came in (shards hold rows)."""
    record["scores"] = {**scores_dict(record.get("scores")), **scores}


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
