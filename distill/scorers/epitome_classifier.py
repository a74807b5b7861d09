"""EPITOME levels from a classifier fitted by `distill scorers fit`: the empathy score that agrees with people.

Every supporter turn is rated as the pair (the seeker turn before it, the turn); a dialogue's `epitome_er`,
`epitome_ip`, `epitome_ex` are the mean levels over its supporter turns and `empathy` their sum (0..6), the same keys
and scale as the lexical scorer, so thresholds, the dedup keeper rule, evaluation and the report read either.
The model is loaded once per scorer object: once per process locally, once per actor under Ray
(`distill.curate.executor.map_on_actors`); `pairs_scored` counts the turns it rated.
"""

from __future__ import annotations

from typing import Any

from distill.epitome.classifier import EpitomeClassifier, QuantizeSetting
from distill.records import EMPATHY
from distill.scorers.base import ScoreResult, mean
from distill.scorers.hf_classifier import no_scorable_turns, rate_supporter_turns

KEYS = ("epitome_er", "epitome_ip", "epitome_ex")


class EpitomeClassifierScorer:
    name = "epitome_classifier"

    def __init__(
        self, path: str, *, quantize: QuantizeSetting = "auto", batch_size: int = 64, threads: int | None = None
    ) -> None:
        self.classifier = EpitomeClassifier.load(
            path, device="auto", quantize=quantize, threads=threads, batch_size=batch_size
        )

    @property
    def pairs_scored(self) -> int:
        return self.classifier.pairs_scored

    def score(self, records: list[dict[str, Any]]) -> list[ScoreResult]:
        results: list[ScoreResult] = []
        for turns in rate_supporter_turns(records, self.classifier.predict):
            if not turns:
                results.append(no_scorable_turns(self.name))
                continue
            values = {key: mean([float(t[k]) for t in turns]) for k, key in enumerate(KEYS)}  # type: ignore[index]
            results.append({**values, EMPATHY: sum(values.values())})
        return results
