"""From logits to levels: per-level logit offsets that give rare levels their share, fitted without labels.

Cross-entropy with mild class weights leaves an encoder shy of the rare levels (interpretations' weak level is ~4% of
EPITOME pairs, explorations' weak ~3%): argmax names them far less often than people do, and macro-F1 counts each
level's F1 equally. `prior_offsets` picks, per mechanism, non-negative offsets added to the logits before argmax so
that on pairs the model did not train on (the fit's held-out split) each minority level is predicted at least as
often as it occurs in the training labels. Only the score distribution is used, never the held-out labels, and an
offset is never negative: a level argmax already names often enough keeps its decisions. Over five EPITOME folds
this raised macro-F1 on every mechanism (BENCHMARKS.md). The offsets live in the model folder's `epitome.json`, so
anyone can apply them: `levels = argmax(logits + offsets)` per mechanism.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from distill.epitome import LEVELS


def prior_offsets(logits: Any, prior: Sequence[float]) -> list[float]:
    """Offsets for one mechanism from `logits` (n, 3) on unseen pairs and the training `prior` (3 level fractions).

    Rarest level first; each offset is the smallest that makes at least a `prior[c]` fraction of the pairs predicted
    level c, given the offsets already set. The most common level, and levels the labels never use, keep 0."""
    import torch

    z = torch.as_tensor(logits, dtype=torch.float32)
    offsets = torch.zeros(len(LEVELS))
    if z.shape[0] == 0:
        return offsets.tolist()
    majority = max(LEVELS, key=lambda c: prior[c])
    for c in sorted(LEVELS, key=lambda c: prior[c]):
        if c == majority or prior[c] <= 0:
            continue
        others = [j for j in LEVELS if j != c]
        # How far level c's logit falls short of winning on each pair; the prior[c]-quantile is what it needs.
        shortfall = (z[:, others] + offsets[others]).max(-1).values - z[:, c]
        offsets[c] = max(0.0, float(torch.quantile(shortfall, prior[c])))
    return [round(v, 6) for v in offsets.tolist()]


def training_prior(labels: Sequence[int]) -> list[float]:
    """Fraction of each level among the labelled pairs (-1 = unlabelled is left out)."""
    rated = [v for v in labels if v >= 0]
    return [sum(1 for v in rated if v == level) / max(1, len(rated)) for level in LEVELS]


def decode(logits: Any, offsets: Sequence[Sequence[float]] | None) -> Any:
    """Levels (n, M) from logits (n, M, 3): argmax after each mechanism's offsets (None: plain argmax)."""
    import torch

    if offsets is None:
        return logits.argmax(-1)
    return (logits + torch.tensor(offsets, dtype=logits.dtype)).argmax(-1)
