"""Agreement of predicted EPITOME levels with human labels: accuracy, macro-F1, Spearman, confusion, per mechanism.

The JSON shape is fixed (`distill scorers validate --json`): one object per mechanism plus `scorer` and `rows`.
Unlabelled pairs (-1) and pairs a scorer could not score (None) are left out of that mechanism's figures (its
confusion matrix totals the pairs that were compared). Beside that shape, `agreement_intervals` says how far the
figures could move with another sample of pairs as large (a percentile bootstrap over the pairs).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from distill.epitome import LEVELS, MECHANISMS
from distill.epitome.data import UNLABELLED, EpitomeSet

Levels = tuple[int, int, int]  # one predicted level per mechanism, in MECHANISMS order
FIGURES = ("accuracy", "macro_f1", "spearman")  # each mechanism's figures beside its confusion, in this order
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


def _compared(data: EpitomeSet, predictions: Sequence[Levels | None]) -> dict[str, tuple[list[int], list[int]]]:
    """(human levels, predicted levels) per mechanism of `data`, over the pairs both sides rated."""
    if len(predictions) != len(data):
        raise ValueError(f"{len(predictions)} predictions for {len(data)} pairs")
    out: dict[str, tuple[list[int], list[int]]] = {}
    for k, mechanism in enumerate(MECHANISMS):
        if mechanism not in data.mechanisms:
            continue
        truth, predicted = [], []
        for pair, levels in zip(data.pairs, predictions, strict=True):
            label = pair.level(mechanism)
            if label != UNLABELLED and levels is not None:
                truth.append(label)
                predicted.append(int(levels[k]))
        out[mechanism] = (truth, predicted)
    return out


def agreement(data: EpitomeSet, predictions: Sequence[Levels | None], scorer: str) -> dict[str, Any]:
    """Per-mechanism agreement of `predictions` (one per pair, None = not scored) with the human levels in `data`."""
    out: dict[str, Any] = {
        mechanism: mechanism_agreement(truth, predicted)
        for mechanism, (truth, predicted) in _compared(data, predictions).items()
    }
    out["scorer"] = scorer
    out["rows"] = len(data)  # pairs not scored are the rows minus a confusion's total
    return out


def _bootstrap_figures(truth: Any, predicted: Any, picks: Any) -> dict[str, Any]:
    """accuracy, macro-F1 and Spearman of every resample at once (rows of `picks` index the pairs), all from the
    resamples' confusion matrices: the same definitions as `mechanism_agreement`, vectorised, since a thousand
    sklearn calls would take longer than the scoring."""
    import numpy as np

    n_levels, n = len(LEVELS), picks.shape[1]
    cells = truth[picks] * n_levels + predicted[picks] + (n_levels * n_levels) * np.arange(len(picks))[:, None]
    confusion = np.bincount(cells.ravel(), minlength=len(picks) * n_levels * n_levels)
    confusion = confusion.reshape(len(picks), n_levels, n_levels).astype(float)
    labelled, named = confusion.sum(axis=2), confusion.sum(axis=1)
    hits = np.diagonal(confusion, axis1=1, axis2=2)
    f1 = np.divide(2 * hits, labelled + named, out=np.zeros(hits.shape), where=labelled + named > 0)

    def centred_ranks(counts: Any) -> Any:  # the average rank of each level's ties, less the mean rank
        return np.cumsum(counts, axis=1) - counts + (counts + 1) / 2 - (n + 1) / 2

    a, b = centred_ranks(labelled), centred_ranks(named)
    covariance = np.einsum("kij,ki,kj->k", confusion, a, b)
    norm = np.sqrt((labelled * a * a).sum(axis=1) * (named * b * b).sum(axis=1))
    rho = np.divide(covariance, norm, out=np.zeros(len(picks)), where=norm > 1e-9)  # a constant side: 0, as above
    return {"accuracy": hits.sum(axis=1) / n, "macro_f1": f1.mean(axis=1), "spearman": rho}


def mechanism_intervals(
    truth: Sequence[int], predicted: Sequence[int], *, confidence: float = 0.95, resamples: int = 1000, seed: int = 0
) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of one mechanism's accuracy, macro-F1 and Spearman: the pairs resampled with
    replacement, `resamples` times, seeded, so the same scores always give the same intervals."""
    import numpy as np

    if not 0 < confidence < 1:
        raise ValueError(f"confidence {confidence} is not between 0 and 1")
    if not truth:
        return {}
    picks = np.random.default_rng(seed).integers(0, len(truth), size=(resamples, len(truth)))
    figures = _bootstrap_figures(np.asarray(truth), np.asarray(predicted), picks)
    tail = (1 - confidence) / 2 * 100
    return {
        key: [round(float(v), 4) for v in np.percentile(values, [tail, 100 - tail])] for key, values in figures.items()
    }


def agreement_intervals(
    data: EpitomeSet,
    predictions: Sequence[Levels | None],
    *,
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """`mechanism_intervals` for every mechanism `agreement` reports, and how they were made. On a few hundred pairs a
    macro-F1 moves by several hundredths between samples, which decides whether two scorers really differ."""
    out: dict[str, Any] = {
        "confidence": confidence,
        "resamples": resamples,
        "method": "percentile bootstrap over the pairs",
    }
    for k, (mechanism, (truth, predicted)) in enumerate(_compared(data, predictions).items()):
        spans = mechanism_intervals(truth, predicted, confidence=confidence, resamples=resamples, seed=seed + k)
        if spans:
            out[mechanism] = spans
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
        out[mechanism] = {key: round(sum(p[key] for p in per) / len(per), 4) for key in FIGURES}
        out[mechanism]["confusion"] = summed
    return out
