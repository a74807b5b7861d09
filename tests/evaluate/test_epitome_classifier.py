"""Evaluation's EPITOME levels and diff-EPITOME come from the trained classifier when one is configured."""

from __future__ import annotations

from distill.config import load_config
from distill.epitome.classifier import EpitomeClassifier
from distill.evaluate.epitome import epitome_many, level_predictor


def test_diff_epitome_uses_the_classifier_levels(planted_epitome_model):
    cfg = load_config(None, [f"eval.epitome_model={planted_epitome_model}"])
    predictor = level_predictor(cfg)
    assert predictor.name == "epitome_classifier"
    seeker = "My dog died last week and the house is so quiet."
    warm = (
        "My heart truly aches for you, I am so deeply sorry. It sounds like you feel completely alone. How have you "
        "been feeling?"
    )
    flat = "The weather was odd today. Trains run late here. Good luck."
    out = epitome_many([(seeker, flat, warm), (seeker, warm, None)], predictor)
    direct = EpitomeClassifier.load(planted_epitome_model, device="cpu", quantize="int8").predict(
        [(seeker, flat), (seeker, warm)]
    )
    assert [out[0][f"epitome_{m}"] for m in ("er", "ip", "ex")] == [float(v) for v in direct[0]]
    assert [out[0][f"diff_epitome_{m}"] for m in ("er", "ip", "ex")] == [
        abs(a - b) for a, b in zip(direct[0], direct[1])
    ]
    assert "diff_epitome_er" not in out[1] and sum(out[1][f"epitome_{m}"] for m in ("er", "ip", "ex")) > sum(direct[0])


def test_without_a_model_the_lexical_cues_are_used():
    assert level_predictor(load_config(None, [])).name == "epitome_lexical"
