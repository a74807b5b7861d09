"""BERTScore, VADER valence and EPITOME on hand-made texts."""

from __future__ import annotations

import pytest

from distill.embedded import minilm_dir
from distill.evaluate.bertscore import bertscore
from distill.evaluate.epitome import epitome
from distill.evaluate.valence import valence
from distill.text.sentiment import compound


def test_bertscore_identical_is_one_and_unrelated_is_lower() -> None:
    ref = "I am so sorry you lost your dog, that must be heartbreaking."
    scores = bertscore(
        [ref, "The train leaves at nine from platform four."], [ref, ref], model=str(minilm_dir()), num_layers=6
    )
    (p, r, f), (_, _, f_other) = scores
    assert p == pytest.approx(1.0, abs=1e-4) and r == pytest.approx(1.0, abs=1e-4) and f == pytest.approx(1.0, abs=1e-4)
    assert f_other < 0.9


def test_bertscore_empty_and_mismatched() -> None:
    assert bertscore([], []) == []
    with pytest.raises(ValueError, match="1 candidates for 2 references"):
        bertscore(["a"], ["a", "b"])


def test_vader_compound_and_shift() -> None:
    assert compound("I am so happy and grateful, this is wonderful!") > 0.5
    assert compound("I feel terrible, sad and hopeless.") < -0.5
    v = valence("That is wonderful news, I am so glad!", "I feel terrible and sad.")
    assert v["shift"] == pytest.approx(v["compound"] - compound("I feel terrible and sad."))
    assert v["shift"] > 1.0


def test_epitome_levels_and_diff() -> None:
    warm = "I'm so sorry, that sounds really painful. It must feel like nobody noticed your effort. What happened next?"
    flat = "Ok."
    same = epitome(warm, warm)
    assert {k for k in same if k.startswith("diff_")} == {"diff_epitome_er", "diff_epitome_ip", "diff_epitome_ex"}
    assert all(same[k] == 0.0 for k in same if k.startswith("diff_"))
    assert epitome(flat, None) == {"epitome_er": 0.0, "epitome_ip": 0.0, "epitome_ex": 0.0}
    diff = epitome(flat, warm)
    assert (
        sum(diff[k] for k in diff if k.startswith("diff_"))
        == sum(same[k] for k in ("epitome_er", "epitome_ip", "epitome_ex"))
        > 0
    )
