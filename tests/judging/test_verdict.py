"""The one reply reader: <think> blocks, fences, and each failure reason, through the kit and through every judge."""

from __future__ import annotations

import pytest

from distill.epitome.judge import rating_of
from distill.evaluate.judge import parse_cehs, parse_rating
from distill.judging.verdict import (
    FAILURES,
    VerdictError,
    first_json_object,
    json_objects,
    read_verdict,
    strip_thinking,
)
from distill.scorers.llm_judge import verdict_of
from distill.teachers.base import TeacherResult

DIALOGUE = '{"emotional_reactions": 2, "interpretations": 1, "explorations": 0, "strategies": [], "safe": true}'
PAIR = '{"emotional_reactions": 2, "interpretations": 1, "explorations": 0, "rationale": "warm"}'
DRAFT = '<think>Maybe {"emotional_reactions": 0, "rating": "Bad", "content": 0}? No, look again.</think>\n'


def result(text: str | None, finish: str | None = "stop", error: str | None = None) -> TeacherResult:
    return TeacherResult(id="r", text=text, finish_reason=finish, error=error)


def test_strip_thinking_drops_closed_and_unclosed_blocks():
    assert strip_thinking("<think>a {b}</think>answer") == "answer"
    assert strip_thinking("<THINK>\nstill {going") == ""
    assert strip_thinking("no block") == "no block"


def test_first_json_object_prefers_a_fence_and_names_what_is_wrong():
    assert first_json_object('Note {"a": 0} then ```json\n{"a": 1}\n```') == {"a": 1}
    assert first_json_object('Sure: {"a": 2} done') == {"a": 2}
    for text, says in (("no braces", "no JSON object"), ('{"a": ', "not valid JSON"), ("[1]", "no JSON object")):
        with pytest.raises(VerdictError) as info:
            first_json_object(text)
        assert info.value.reason == "judge_unparseable" and says in str(info.value)


def test_json_objects_finds_every_object_and_skips_broken_ones():
    assert json_objects('{"a": 1} {broken {"b": {"c": 2}} [3]') == [{"a": 1}, {"b": {"c": 2}}]


def test_think_blocks_are_stripped_in_every_judge():
    assert verdict_of(result(DRAFT + DIALOGUE)).value.emotional_reactions == 2
    assert rating_of(result(DRAFT + PAIR)).value == ((2, 1, 0), "warm")
    assert parse_rating(result(DRAFT + '{"rating": "Good", "reason": "warm"}')).value == "good"
    cehs = parse_cehs(result(DRAFT + '{"content": 2, "empathy": 1, "helpfulness": 1, "safety": 1}'))
    assert cehs.value == {"content": 2, "empathy": 1, "helpfulness": 1, "safety": 1}


def test_fenced_json_is_read_in_every_judge():
    def fence(text: str) -> str:
        return f"Here you go:\n```json\n{text}\n```\nHope it helps."

    assert verdict_of(result(fence(DIALOGUE))).ok
    assert rating_of(result(fence(PAIR))).ok
    assert parse_rating(result(fence('{"rating": "okay"}'))).value == "okay"
    assert parse_cehs(result(fence('{"content": 1, "empathy": 1, "helpfulness": 1, "safety": 0}'))).ok


CASES = [
    # (judge reader, result, reason)
    (verdict_of, result(None, None, "connection refused"), "judge_failed"),
    (rating_of, result(None, None, None), "judge_failed"),
    (parse_rating, result("  \n"), "judge_empty"),
    (verdict_of, result(""), "judge_empty"),
    (rating_of, result('{"emotional_reactions": 2, "interp', "length"), "judge_truncated"),
    (verdict_of, result("<think>weighing it up {", "length"), "judge_truncated"),
    (parse_cehs, result('{"content": 2, "empa', "length"), "judge_truncated"),
    (verdict_of, result("The supporter was kind."), "judge_unparseable"),
    (parse_rating, result("It is fine, I suppose."), "judge_unparseable"),
    (rating_of, result('{"emotional_reactions": 1, "interpretations": 1}'), "judge_missing_field"),
    (parse_cehs, result('{"content": 2, "empathy": 1}'), "judge_missing_field"),
    (verdict_of, result(DIALOGUE.replace("true", '"yes"')), "judge_invalid_field"),
    (parse_rating, result('{"rating": "Excellent"}'), "judge_invalid_field"),
    (parse_cehs, result('{"content": 3, "empathy": 1, "helpfulness": 1, "safety": 1}'), "judge_invalid_field"),
    # a verdict that was read but is wrong stays wrong when cut off: only "found nothing" becomes truncated
    (rating_of, result(PAIR.replace(": 2", ": 5"), "length"), "judge_invalid_field"),
    (parse_rating, result('{"rating": "Good"} no, {"rating": "Bad"}'), "judge_ambiguous"),
]


@pytest.mark.parametrize(("read", "reply", "reason"), CASES)
def test_each_failure_reason(read, reply, reason):
    verdict = read(reply)
    assert not verdict.ok and verdict.value is None and verdict.failure == reason and verdict.detail


def test_the_cases_cover_the_one_set_of_reasons():
    assert {reason for _, _, reason in CASES} == set(FAILURES)


def test_read_verdict_passes_the_answer_without_thinking_to_the_parser():
    seen = []
    verdict = read_verdict(result("<think>draft</think> 42"), lambda text: seen.append(text) or int(text))
    assert verdict.ok and verdict.value == 42 and seen == [" 42"]
