from __future__ import annotations

import pytest

from distill.config import TeacherSection
from distill.judging.verdict import VerdictError
from distill.scorers.base import ScoreFailure
from distill.scorers.llm_judge import LLMJudgeScorer, load_empathy_rubric, parse_judge_reply, render_judge_messages

GOOD_REPLY = (
    '{"emotional_reactions": 2, "interpretations": 1, "explorations": 0, "strategies": ["comfort", "Emotional '
    'Support", "advice"], "safe": true, "rationale": "warm"}'
)


def test_rubric_renders_transcript_and_emotion(dlg):
    rubric = load_empathy_rubric("v1")
    messages = render_judge_messages(
        dlg("My dog died.", "I'm so sorry. What was his name?", emotion="devastated"), rubric
    )
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "EPITOME" in messages[0]["content"] and '"safe": true|false' in messages[0]["content"]
    user = messages[1]["content"]
    assert "devastated" in user and "Seeker: My dog died.\nSupporter: I'm so sorry. What was his name?" in user
    assert "$" not in user  # every placeholder filled


def test_parse_valid_reply_in_prose_and_fences():
    for text in (
        GOOD_REPLY,
        f"Sure! Here is my rating:\n```json\n{GOOD_REPLY}\n```\nHope it helps.",
        f"Rating: {GOOD_REPLY} done",
    ):
        v = parse_judge_reply(text)
        assert (v.emotional_reactions, v.interpretations, v.explorations, v.safe) == (2, 1, 0, True)
        assert v.strategies == ("comfort", "emotional_support")  # normalized; unknown names dropped
        assert v.scores()["judge_empathy"] == 3.0 and v.scores()["judge_strategies"] == pytest.approx(2 / 6)


@pytest.mark.parametrize(
    ("text", "reason", "says"),
    [
        ("The supporter was very empathetic, I'd give it a 2.", "judge_unparseable", "no JSON object"),
        ('{"emotional_reactions": 2, "interpretations": 1,', "judge_unparseable", "not valid JSON"),
        ("[1, 2, 3]", "judge_unparseable", "no JSON object"),
        (
            '{"emotional_reactions": 3, "interpretations": 1, "explorations": 0, "strategies": [], "safe": true}',
            "judge_invalid_field",
            "emotional_reactions",
        ),
        (
            '{"emotional_reactions": 1, "interpretations": "high", "explorations": 0, "strategies": [], "safe": true}',
            "judge_invalid_field",
            "interpretations",
        ),
        (
            '{"emotional_reactions": 1, "interpretations": 1, "strategies": [], "safe": true}',
            "judge_missing_field",
            "explorations",
        ),
        (
            '{"emotional_reactions": 1, "interpretations": 1, "explorations": 0, "strategies": []}',
            "judge_missing_field",
            "safe",
        ),
        (
            '{"emotional_reactions": 1, "interpretations": 1, "explorations": 0, "strategies": "comfort", "safe": '
            "true}",
            "judge_invalid_field",
            "strategies",
        ),
        (
            '{"emotional_reactions": 1, "interpretations": 1, "explorations": 0, "strategies": [], "safe": "yes"}',
            "judge_invalid_field",
            "safe",
        ),
        (
            '{"emotional_reactions": true, "interpretations": 1, "explorations": 0, "strategies": [], "safe": true}',
            "judge_invalid_field",
            "emotional_reactions",
        ),
    ],
)
def test_malformed_replies_fail_with_a_reason(text, reason, says):
    with pytest.raises(VerdictError) as info:
        parse_judge_reply(text)
    assert info.value.reason == reason and says in str(info.value)


@pytest.mark.slow
def test_judge_end_to_end_through_the_transformers_backend(dlg):
    """The embedded SmolLM2-135M as judge: each dialogue gets in-range judge scores or a reasoned failure, never a
    guess."""
    from distill.teachers import build_teacher

    teacher = build_teacher(TeacherSection(backend="transformers", model="embedded", batch_size=4))
    try:
        # Few tokens: a 135M model on a shared CPU is slow, and what is checked is the path, not the rating.
        scorer = LLMJudgeScorer(teacher, load_empathy_rubric("v1"), max_tokens=24)
        records = [dlg("I failed my exam.", "That sounds so disappointing. How are you feeling?", id="a")]
        results = scorer.score(records)
        assert len(results) == 1
        for record, result in zip(records, results):
            if not isinstance(result, ScoreFailure):
                s = result
                assert {s["judge_er"], s["judge_ip"], s["judge_ex"]} <= {0.0, 1.0, 2.0} and s["judge_safe"] in (
                    0.0,
                    1.0,
                )
            else:
                reason, detail = result
                # the old judge_unparseable / judge_invalid_field / judge_failed, as the kit's one set splits them
                old = (
                    "judge_unparseable",
                    "judge_empty",
                    "judge_truncated",
                    "judge_missing_field",
                    "judge_invalid_field",
                )
                assert reason in (*old, "judge_failed") and detail
            assert not any(k.startswith("judge_") for k in record["scores"])  # the caller merges, never the scorer
    finally:
        teacher.close()
