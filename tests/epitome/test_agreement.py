"""Agreement figures against hand-computed values."""

from __future__ import annotations

from distill.epitome.agreement import mechanism_agreement


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
