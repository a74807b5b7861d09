"""Scored responses -> the numbers in eval.json: per system overall, per emotion (32 labels) and per polarity.

Judge ratings are reported as counts and as shares of the responses the judge could rate; unreadable judge
replies are counted under `failed` with their reasons, never folded into Bad.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from distill.evaluate.diversity import diversity_metrics, length_stats
from distill.evaluate.judge import RATINGS
from distill.records import scores_dict

UNLABELED = "unlabeled"


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def rating_counts(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    counts = Counter(r["rating"] for r in rows if r["rating"] in RATINGS)
    judged = [r for r in rows if r.get("judge_failures") is not None]
    failed = Counter(dict(r["judge_failures"]).get("empathy_rating") for r in judged)
    failed.pop(None, None)
    rated = sum(counts.values())
    out: dict[str, Any] = {"n": len(rows), **{k: counts.get(k, 0) for k in RATINGS}, "failed": sum(failed.values())}
    out.update({f"{k}_share": round(counts.get(k, 0) / rated, 4) if rated else None for k in RATINGS})
    out["failed_reasons"] = dict(sorted(failed.items()))
    return out


def score_means(rows: Sequence[dict[str, Any]]) -> dict[str, float | None]:
    values: dict[str, list[float]] = {}
    for row in rows:
        for key, value in scores_dict(row.get("scores")).items():
            values.setdefault(key, []).append(float(value))
    return {key: _mean(vals) for key, vals in sorted(values.items())}


def cehs_failures(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    failed = Counter(dict(r.get("judge_failures") or {}).get("cehs") for r in rows)
    failed.pop(None, None)
    return dict(sorted(failed.items()))


def summarize_system(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    texts = [r["response"] for r in rows]
    by_emotion: dict[str, list[dict[str, Any]]] = {}
    by_polarity: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_emotion.setdefault(row["emotion"] or UNLABELED, []).append(row)
        by_polarity.setdefault(row["polarity"] or UNLABELED, []).append(row)
    return {
        "responses": len(rows),
        "length": length_stats(texts),
        "diversity": diversity_metrics(texts),
        "scores": score_means(rows),
        "judge": {"empathy_rating": rating_counts(rows), "cehs_failed": cehs_failures(rows)},
        "per_emotion": {e: rating_counts(rs) | {"scores": score_means(rs)} for e, rs in sorted(by_emotion.items())},
        "per_polarity": {p: rating_counts(rs) | {"scores": score_means(rs)} for p, rs in sorted(by_polarity.items())},
    }
