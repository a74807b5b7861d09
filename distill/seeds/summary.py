"""Counts of a seed configuration without writing anything: what `distill seeds inspect` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from distill.config import SeedsSection
from distill.seeds.stage import count_outcome, iter_outcomes
from distill.stats import StageStats


@dataclass
class SeedSummary:
    stats: StageStats
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # reason -> first rejects


def summarize(section: SeedsSection, *, examples_per_reason: int = 3) -> SeedSummary:
    summary = SeedSummary(StageStats("seeds"))
    for source_name, outcome in iter_outcomes(section):
        count_outcome(summary.stats, source_name, outcome)
        if outcome.reject is not None:
            bucket = summary.examples.setdefault(outcome.reject["reason"], [])
            if len(bucket) < examples_per_reason:
                bucket.append(outcome.reject)
    return summary
