from __future__ import annotations

import pytest

from distill.scorers.base import merge_scores
from distill.scorers.epitome_lexical import LexicalEpitomeScorer
from distill.scorers.strategies import StrategyCoverageScorer
from distill.scorers.valence import ValenceShiftScorer
from distill.text.lexicon import epitome_levels


@pytest.mark.parametrize(
    ("reply", "levels"),
    [
        ("Okay.", (0, 0, 0)),
        ("Hang in there, things will get better.", (1, 0, 0)),
        ("I'm sorry to hear that.", (2, 0, 0)),  # the responder's own sorrow: EPITOME's raters rate it strong
        ("My heart goes out to you.", (2, 0, 0)),
        ("I understand.", (0, 1, 0)),
        ("It sounds like you feel invisible at home.", (0, 2, 0)),
        ("Why?", (0, 0, 1)),
        ("What part of the move has been hardest for you?", (0, 0, 2)),
        ("I'm so sorry. That must be exhausting. How have you been feeling since?", (2, 2, 2)),
        ("心疼你。听起来你真的很累。能跟我说说发生了什么吗？", (2, 2, 2)),
        ("Il semble que tu sois triste.", (0, 0, 0)),  # no French lexicon: the lexical scorer stays at 0
    ],
)
def test_epitome_levels(reply, levels):
    assert epitome_levels(reply) == levels


def test_lexical_epitome_scores_are_means_over_supporter_turns(dlg):
    record = dlg("My dog died.", "My heart goes out to you.", "Thanks.", "Okay.")
    [s] = LexicalEpitomeScorer().score([record])
    assert record["scores"] == {}  # a scorer returns its scores; the caller merges them
    assert (s["epitome_er"], s["epitome_ip"], s["epitome_ex"]) == (1.0, 0.0, 0.0)
    assert s["empathy"] == 1.0


def test_merged_scores_accept_arrow_map_pairs_and_keep_other_scores(dlg):
    record = dlg("My dog died.", "That must be so hard. What was his name?", scores=[("judge_er", 2.0)])
    merge_scores(record, LexicalEpitomeScorer().score([record])[0])
    assert (
        record["scores"]["judge_er"] == 2.0 and record["scores"]["empathy"] == 3.0
    )  # IP 2 (that must be), EX 1 (a generic question)


def test_strategy_coverage(dlg):
    record = dlg(
        "I lost my job.",
        "Thank you for sharing this with me. It sounds like a shock. You're not alone. What happened?",
        strategies=["questioning", "comfort", "recognition"],
    )
    [scores] = StrategyCoverageScorer().score([record])
    # trust (thank you for sharing), listening (sounds like), comfort (not alone), questioning (?) = 4 of 6.
    assert scores["strategy_coverage"] == pytest.approx(4 / 6)
    assert scores["strategy_plan_coverage"] == pytest.approx(2 / 3)  # recognition was planned but not used
    bare = dlg("I lost my job.", "Okay.", strategies=[])
    [bare_scores] = StrategyCoverageScorer().score([bare])
    assert bare_scores["strategy_coverage"] == 0.0 and "strategy_plan_coverage" not in bare_scores


def test_valence_shift(dlg):
    better = dlg(
        "I feel awful, sad and hopeless.",
        "That sounds so hard.",
        "Thank you, I feel a lot better and calmer now.",
        "I'm glad.",
    )
    worse = dlg(
        "Today was great, I love my new job!", "Wonderful!", "Actually my boss yelled at me, I hate this.", "Oh no."
    )
    up, down = ValenceShiftScorer().score([better, worse])
    assert up["valence_shift"] > 0.5
    assert down["valence_shift"] < -0.5
    assert up["valence_first"] < 0 < up["valence_last"]
