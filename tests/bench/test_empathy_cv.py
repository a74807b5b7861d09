"""bench/empathy_agreement's cross-validation: per-fold figures averaged, confusions summed over every pair once."""

from __future__ import annotations

from bench.empathy_agreement import lexical_cv
from distill.epitome import MECHANISMS
from distill.epitome.agreement import agreement
from distill.epitome.data import EpitomePair, EpitomeSet
from distill.epitome.predictors import LexicalPredictor

RESPONSES = [
    "I'm so sorry, that sounds really hard. What happened after that?",
    "Have you talked to anyone about how you feel?",
    "lol same",
    "I understand, I went through the same thing last year and it hurt.",
    "That must be so frustrating for you.",
    "Go see a doctor.",
]


def test_lexical_cv_averages_the_folds_and_sums_their_confusions():
    pairs = [
        EpitomePair(f"s{i}", f"r{i}", f"My week was awful, post {i}.", RESPONSES[i % 6], {m: i % 3 for m in MECHANISMS})
        for i in range(30)
    ]
    data = EpitomeSet(pairs, MECHANISMS, "digest", "fixture")
    folds = [list(range(k, 30, 5)) for k in range(5)]
    result = lexical_cv(data, folds)
    runs = [
        agreement(
            data.subset(f), LexicalPredictor().predict([(p.seeker, p.response) for p in data.subset(f).pairs]), "x"
        )
        for f in folds
    ]
    assert result["folds"] == 5 and result["rows"] == 30 and result["unseen_folds"] == [4]
    for m in MECHANISMS:
        assert sum(map(sum, result[m]["confusion"])) == 30  # every pair counted once
        expected = round(sum(r[m]["macro_f1"] for r in runs) / 5, 4)
        assert result[m]["macro_f1"] == expected and result["unseen"][m]["macro_f1"] == runs[4][m]["macro_f1"]
