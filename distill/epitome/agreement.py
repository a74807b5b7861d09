"""Agreement of predicted EPITOME levels with human labels: accuracy, macro-F1, Spearman, confusion, per mechanism.

The JSON shape is fixed (`distill scorers validate --json`): one object per mechanism plus `scorer` and `rows`.
Unlabelled pairs (-1) and pairs a scorer could not score (None) are left out of that mechanism's figures (its
confusion matrix totals the pairs that were compared).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from distill.epitome import LEVELS, MECHANISMS
from distill.epitome.data import UNLABELLED, EpitomeSet

Levels = tuple[int, int, int]  # one predicted level per mechanism, in MECHANISMS order
Pair = tuple[str, str]  # (seeker post or turn, supporter response): what every EPITOME scorer rates


def same_levels_share(a: Sequence[Levels | None], b: Sequence[Levels | None]) -> float:
    """Share of pairs two scoring paths give exactly the same levels (every mechanism), e.g. int8 against fp32."""
    return round(sum(x == y for x, y in zip(a, b, strict=True)) / max(1, len(a)), 4)


def mechanism_agreement(truth: Sequence[int], predicted: Sequence[int]) -> dict[str, Any]:
    """accuracy, macro-F1 over the three levels (sklearn's definition: a level nobody predicted or labelled scores 0),
    Spearman rank correlation (0.0 when either side is constant), confusion[true][predicted]."""
    from scipy.stats import spearmanr
    from sklearn.metrics import confusion_matrix, f1_score

    if not truth:
        return {"accuracy": 0.0, "macro_f1": 0.0, "spearman": 0.0, "confusion": [[0] * len(LEVELS) for _ in LEVELS]}
    accuracy = sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth)
    macro_f1 = float(f1_score(truth, predicted, labels=list(LEVELS), average="macro", zero_division=0))
    rho = spearmanr(truth, predicted).statistic if len(set(truth)) > 1 and len(set(predicted)) > 1 else 0.0
    confusion = confusion_matrix(truth, predicted, labels=list(LEVELS)).tolist()
    return {
        "accuracy": round(accuracy, 4),
        "macro_f1": round(macro_f1, 4),
        "spearman": round(0.0 if math.isnan(rho) else float(rho), 4),
        "confusion": confusion,
    }


def agreement(data: EpitomeSet, predictions: Sequence[Levels | None], scorer: str) -> dict[str, Any]:
    """Per-mechanism agreement of `predictions` (one per pair, None = not scored) with the human levels in `data`."""
    if len(predictions) != len(data):
        raise ValueError(f"{len(predictions)} predictions for {len(data)} pairs")
    out: dict[str, Any] = {}
    for k, mechanism in enumerate(MECHANISMS):
        truth, predicted = [], []
        for pair, levels in zip(data.pairs, predictions, strict=True):
            label = pair.level(mechanism)
            if label != UNLABELLED and levels is not None:
                truth.append(label)
                predicted.append(int(levels[k]))
        if mechanism in data.mechanisms:
            out[mechanism] = mechanism_agreement(truth, predicted)
    out["scorer"] = scorer
    out["rows"] = len(data)  # pairs not scored are the rows minus a confusion's total
    return out


def mean_agreement(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean of per-fold figures (cross-validation); confusions are summed, so they count every held-out pair once."""
    first = runs[0]
    out: dict[str, Any] = {"scorer": first["scorer"], "rows": sum(r["rows"] for r in runs), "folds": len(runs)}
    for mechanism in MECHANISMS:
        per = [r[mechanism] for r in runs if mechanism in r]
        if not per:
            continue
        summed = [[sum(p["confusion"][i][j] for p in per) for j in range(len(LEVELS))] for i in range(len(LEVELS))]
        out[mechanism] = {
            key: round(sum(p[key] for p in per) / len(per), 4) for key in ("accuracy", "macro_f1", "spearman")
        }
        out[mechanism]["confusion"] = summed
    return out
