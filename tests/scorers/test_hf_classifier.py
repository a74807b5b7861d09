from __future__ import annotations

import pytest

from distill.errors import ConfigError
from distill.scorers.base import ScoreFailure
from distill.scorers.hf_classifier import HFClassifierScorer
from distill.text.turns import Dialogue


@pytest.fixture(scope="module")
def classifier_dir(tmp_path_factory):
    """A real 3-label sequence classifier: the MiniLM encoder with a seeded, freshly initialised head, saved to a folder
    (the shape of an EPITOME RoBERTa checkpoint a user would point the scorer at)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from distill.embedded import minilm_dir

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("epitome_like")
    model = AutoModelForSequenceClassification.from_pretrained(str(minilm_dir()), num_labels=3, local_files_only=True)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(str(minilm_dir()), local_files_only=True).save_pretrained(out)
    return out


def test_response_pairs(dlg):
    record = dlg("a", "b", "c", "d")
    record["messages"].insert(0, {"role": "system", "content": "sys"})
    assert Dialogue.of(record).response_pairs == [("a", "b"), ("c", "d")]


def test_classifier_scores_expected_level_per_dialogue(dlg, classifier_dir):
    scorer = HFClassifierScorer(str(classifier_dir), "epitome_er_clf", batch_size=2)
    records = [
        dlg("My dog died.", "I'm so sorry, my heart goes out to you.", "Thanks.", "What was he like?", id="a"),
        dlg("I got the job!", "Congratulations, that is wonderful!", id="b"),
        dlg("Just one seeker turn.", id="c"),
    ]
    results = scorer.score(records)
    assert isinstance(results[2], ScoreFailure) and results[2].reason == "no_scorable_turns"
    for scores in results[:2]:
        assert set(scores) == {"epitome_er_clf"} and 0.0 <= scores["epitome_er_clf"] <= 2.0
    # Deterministic: the same model on the same dialogue gives the same score (the mean of its two turn scores).
    again = dlg("My dog died.", "I'm so sorry, my heart goes out to you.", "Thanks.", "What was he like?", id="a2")
    [again_scores] = scorer.score([again])
    assert again_scores["epitome_er_clf"] == pytest.approx(results[0]["epitome_er_clf"], abs=1e-5)


def test_missing_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not a local model folder"):
        HFClassifierScorer(str(tmp_path / "nope"))
