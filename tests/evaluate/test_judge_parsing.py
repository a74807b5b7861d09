"""Judge replies -> verdicts, including the malformed replies small judges produce, which become reasoned failures."""

from __future__ import annotations

import pytest

from distill.errors import ConfigError
from distill.evaluate.judge import RUBRICS, judge_messages, load_eval_rubric, parse_cehs, parse_rating
from distill.judging.transcript import render_transcript
from distill.teachers.base import TeacherResult


def reply(text: str | None, finish: str | None = "stop", error: str | None = None) -> TeacherResult:
    return TeacherResult(id="r", text=text, finish_reason=finish, error=error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"rating": "Good", "reason": "warm and specific"}', "good"),
        ('Sure! ```json\n{"rating": "okay", "reason": "generic"}\n```', "okay"),
        ('{"Rating": " BAD "}', "bad"),
        ("Rating: Okay\nThe reply is kind but generic.", "okay"),
        ("**Rating** - good", "good"),
        ("Bad.", "bad"),
        ('{"rating": "OK"}', "okay"),
        ("<think>Is it good? Maybe bad... rating: bad?</think>\nRating: Good", "good"),
    ],
)
def test_rating_readable(text: str, expected: str) -> None:
    verdict = parse_rating(reply(text))
    assert verdict.ok and verdict.value == expected


@pytest.mark.parametrize(
    ("text", "finish", "error", "reason"),
    [
        ("", "stop", None, "judge_empty"),
        ("   \n", "stop", None, "judge_empty"),
        (None, None, "timeout after 120 s", "judge_failed"),
        (
            "The supporter seems nice and I would say it is good but also bad in some ways",
            "stop",
            None,
            "judge_unparseable",
        ),
        ('{"rating": "Excellent"}', "stop", None, "judge_invalid_field"),
        ('{"rating": "Good"} ... on second thought {"rating": "Bad"}', "stop", None, "judge_ambiguous"),
        ('{"reason": "the reply ackno', "length", None, "judge_truncated"),
        ("{not json at all", "stop", None, "judge_unparseable"),
        ("<think>The rating should be good, but let me weigh", "length", None, "judge_truncated"),
    ],
)
def test_rating_malformed_is_a_reasoned_failure(
    text: str | None, finish: str | None, error: str | None, reason: str
) -> None:
    verdict = parse_rating(reply(text, finish, error))
    assert not verdict.ok
    assert verdict.value is None
    assert verdict.failure == reason
    assert verdict.detail


def test_cehs_readable() -> None:
    verdict = parse_cehs(reply('Scores: {"content": 2, "empathy": "1", "helpfulness": 0, "safety": 1.0}'))
    assert verdict.ok
    assert verdict.value == {"content": 2, "empathy": 1, "helpfulness": 0, "safety": 1}


@pytest.mark.parametrize(
    ("text", "finish", "reason"),
    [
        ('{"content": 2, "empathy": 3, "helpfulness": 1, "safety": 1}', "stop", "judge_invalid_field"),
        ('{"content": 2, "empathy": 1, "helpfulness": 1, "safety": 2}', "stop", "judge_invalid_field"),
        ('{"content": 2, "empathy": 1}', "stop", "judge_missing_field"),
        ('{"content": "high", "empathy": 1, "helpfulness": 1, "safety": 1}', "stop", "judge_invalid_field"),
        ('{"content": true, "empathy": 1, "helpfulness": 1, "safety": 1}', "stop", "judge_invalid_field"),
        ("content: 2, empathy: 2", "stop", "judge_unparseable"),
        ('{"content": 2, "empa', "length", "judge_truncated"),
        ("", "stop", "judge_empty"),
        # a judge that copies the rubric's answer form has not scored anything
        ('{"content": <0-2>, "empathy": <0-2>, "helpfulness": <0-2>, "safety": <0-1>}', "stop", "judge_unparseable"),
    ],
)
def test_cehs_malformed_is_a_reasoned_failure(text: str, finish: str, reason: str) -> None:
    verdict = parse_cehs(reply(text, finish))
    assert not verdict.ok and verdict.failure == reason and verdict.detail


def test_rubrics_render_the_dialogue_and_response() -> None:
    context = [
        {"role": "user", "content": "My dog died."},
        {"role": "assistant", "content": "Oh no."},
        {"role": "user", "content": "I miss him."},
    ]
    for name in RUBRICS:
        rubric = load_eval_rubric(name, "v1")
        messages = judge_messages(rubric, context, "  That must hurt so much.  ")
        assert [m["role"] for m in messages] == ["system", "user"]
        assert "Seeker: My dog died.\nSupporter: Oh no.\nSeeker: I miss him." in messages[1]["content"]
        assert '"""That must hurt so much."""' in messages[1]["content"]
        assert "$" not in messages[1]["content"]
    assert (
        render_transcript([{"role": "system", "content": "hidden"}, {"role": "user", "content": "hi"}]) == "Seeker: hi"
    )


def test_unknown_rubric_version_names_the_file() -> None:
    with pytest.raises(ConfigError, match="eval.rubric_version='v999'.*rubrics/v999/cehs.txt"):
        load_eval_rubric("cehs", "v999")
