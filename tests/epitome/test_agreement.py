"""Agreement figures against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from distill.epitome import MECHANISMS
from distill.epitome.agreement import _bootstrap_figures, agreement, agreement_intervals, mechanism_agreement


def test_perfect_and_inverted_agreement():
    truth = [0, 0, 1, 2, 2, 1]
    same = mechanism_agreement(truth, truth)
    assert same["accuracy"] == 1.0 and same["macro_f1"] == 1.0 and same["spearman"] == 1.0
    assert same["confusion"] == [[2, 0, 0], [0, 2, 0], [0, 0, 2]]
    inverted = mechanism_agreement(truth, [2 - t for t in truth])
    assert inverted["spearman"] == -1.0 and inverted["accuracy"] == round(2 / 6, 4)


def test_constant_predictions_have_zero_spearman_and_count_missing_levels_in_macro_f1():
    result = mechanism_agreement([0, 0, 0, 1], [0, 0, 0, 0])
    # F1 for level 0 = 2*0.75*1/(1.75) = 0.857; levels 1 and 2 score 0 -> macro 0.2857
    assert result["spearman"] == 0.0 and result["macro_f1"] == 0.2857 and result["accuracy"] == 0.75
    assert result["confusion"] == [[3, 0, 0], [1, 0, 0], [0, 0, 0]]


def _set(levels: list[int]):
    from distill.epitome.data import EpitomePair, EpitomeSet

    pairs = [
        EpitomePair(f"s{i}", f"r{i}", f"seeker {i}", f"response {i}", {m: v for m in MECHANISMS})
        for i, v in enumerate(levels)
    ]
    return EpitomeSet(pairs, MECHANISMS, "digest", "fixture")


def test_bootstrap_figures_are_the_point_figures_of_each_resample():
    """The vectorised resample figures use mechanism_agreement's definitions (ties, absent levels, constant sides)."""
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 3, 60)
    predicted = np.where(rng.random(60) < 0.6, truth, rng.integers(0, 3, 60))
    predicted[:50] = 0  # mostly one level, so some resamples leave levels out
    picks = np.vstack([np.arange(60), rng.integers(0, 60, (30, 60)), np.zeros((1, 60), dtype=int)])
    figures = _bootstrap_figures(truth, predicted, picks)
    for i, row in enumerate(picks):
        expected = mechanism_agreement(truth[row].tolist(), predicted[row].tolist())
        for key in ("accuracy", "macro_f1", "spearman"):
            assert figures[key][i] == pytest.approx(expected[key], abs=1e-4), (i, key)


def test_intervals_bracket_the_figure_repeat_with_the_seed_and_narrow_with_more_pairs():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 3, 200).tolist()
    predicted = [t if rng.random() < 0.7 else int(rng.integers(0, 3)) for t in truth]
    data = _set(truth)
    levels = [(p, p, p) for p in predicted]
    result = agreement(data, levels, scorer="x")
    intervals = agreement_intervals(data, levels)
    assert intervals["confidence"] == 0.95 and intervals["resamples"] == 1000
    for m in MECHANISMS:
        for key in ("accuracy", "macro_f1", "spearman"):
            low, high = intervals[m][key]
            assert low < result[m][key] < high and high - low < 0.3, (m, key)
    assert agreement_intervals(data, levels) == intervals  # seeded
    assert agreement_intervals(data, levels, seed=1) != intervals
    four_times = agreement_intervals(_set(truth * 4), levels * 4)
    width = intervals["emotional_reactions"]["macro_f1"][1] - intervals["emotional_reactions"]["macro_f1"][0]
    wider = four_times["emotional_reactions"]["macro_f1"]
    assert 0.35 * width < wider[1] - wider[0] < 0.65 * width  # about 1/sqrt(4) as wide
    perfect = agreement_intervals(data, [(t, t, t) for t in truth])
    assert perfect["interpretations"] == {"accuracy": [1.0, 1.0], "macro_f1": [1.0, 1.0], "spearman": [1.0, 1.0]}
    with pytest.raises(ValueError, match="confidence"):
        agreement_intervals(data, levels, confidence=95)
