"""LLM judge of whole dialogues in curation: the rubric `distill/judging/rubrics/<version>/empathy_judge.txt` sent
through any teacher backend, its JSON verdict read by the judge kit (`distill.judging`).

A reply that is not the verdict the rubric asks for is a reasoned failure (one of `distill.judging.verdict.FAILURES`),
never a guessed score. Writes `judge_er`, `judge_ip`, `judge_ex`, `judge_empathy` (sum, 0..6), `judge_strategies`
(share of the six) and `judge_safe` (1.0 / 0.0).

Each request carries the verdict's JSON schema, so backends with structured outputs (vLLM, OpenAI-compatible) can only
produce a parseable verdict; the tolerant reading stays for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from distill.judging.fields import LEVEL_SCHEMA, RATIONALE_SCHEMA, parse_level, required
from distill.judging.rubric import Rubric, load_rubric
from distill.judging.transcript import render_transcript
from distill.judging.verdict import (
    JUDGE_INVALID_FIELD,
    JUDGE_UNPARSEABLE,
    Verdict,
    VerdictError,
    first_json_object,
    read_verdict,
)
from distill.records import STRATEGIES, make_id
from distill.scorers.base import ScoreFailure, ScoreResult

if TYPE_CHECKING:
    from distill.teachers.base import Teacher, TeacherResult

RUBRIC = "empathy_judge"
RUBRIC_FIELDS = ("emotion", "transcript")
LEVEL_KEYS = {"emotional_reactions": "judge_er", "interpretations": "judge_ip", "explorations": "judge_ex"}
VERDICT_SCHEMA: dict[str, Any] = {
    "title": "empathy_verdict",
    "type": "object",
    "properties": {
        **{key: LEVEL_SCHEMA for key in LEVEL_KEYS},
        "strategies": {
            "type": "array",
            "items": {"type": "string", "enum": list(STRATEGIES)},
            "maxItems": len(STRATEGIES),
        },
        "safe": {"type": "boolean"},
        "rationale": RATIONALE_SCHEMA,
    },
    "required": [*LEVEL_KEYS, "strategies", "safe", "rationale"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class EmpathyRating:
    """What the judge read in one dialogue's supporter turns."""

    emotional_reactions: int
    interpretations: int
    explorations: int
    strategies: tuple[str, ...]
    safe: bool
    rationale: str

    def scores(self) -> dict[str, float]:
        levels = (self.emotional_reactions, self.interpretations, self.explorations)
        return {
            "judge_er": float(levels[0]),
            "judge_ip": float(levels[1]),
            "judge_ex": float(levels[2]),
            "judge_empathy": float(sum(levels)),
            "judge_strategies": len(self.strategies) / len(STRATEGIES),
            "judge_safe": 1.0 if self.safe else 0.0,
        }


def load_empathy_rubric(version: str) -> Rubric:
    return load_rubric(RUBRIC, version, setting="curate.judge_rubric", fields=RUBRIC_FIELDS)


def render_judge_messages(record: dict[str, Any], rubric: Rubric) -> list[dict[str, str]]:
    transcript = render_transcript(record.get("messages") or [])
    return rubric.messages(emotion=record.get("emotion") or "unknown", transcript=transcript)


def parse_judge_reply(text: str) -> EmpathyRating:
    """The judge's answer -> EmpathyRating, or VerdictError naming what is wrong (never a guessed score)."""
    obj = first_json_object(text)
    levels = {key: parse_level(obj, key) for key in LEVEL_KEYS}
    strategies = obj.get("strategies", [])
    if not isinstance(strategies, list) or not all(isinstance(s, str) for s in strategies):
        raise VerdictError(JUDGE_INVALID_FIELD, f"strategies must be a list of names, got {strategies!r}")
    normalized = tuple(sorted({s.strip().lower().replace(" ", "_") for s in strategies} & set(STRATEGIES)))
    safe = required(obj, "safe")
    if not isinstance(safe, bool):
        raise VerdictError(JUDGE_INVALID_FIELD, f"safe must be true or false, got {safe!r}")
    return EmpathyRating(**levels, strategies=normalized, safe=safe, rationale=str(obj.get("rationale", ""))[:500])


def verdict_of(result: TeacherResult) -> Verdict[EmpathyRating]:
    return read_verdict(result, parse_judge_reply)


class LLMJudgeScorer:
    name = "llm_judge"

    def __init__(self, teacher: Teacher, rubric: Rubric, *, max_tokens: int = 256) -> None:
        self.teacher, self.rubric, self.max_tokens = teacher, rubric, max_tokens

    def close(self) -> None:
        self.teacher.close()

    def score(self, records: list[dict[str, Any]]) -> list[ScoreResult]:
        from distill.teachers.base import SamplingParams, TeacherRequest

        requests = []
        for record in records:
            rid = make_id("judge", self.rubric.version, record["id"])
            # Greedy + a seed derived from the record: the same dialogue gets the same rating on a rerun.
            sampling = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=self.max_tokens, seed=int(rid[:8], 16))
            messages = render_judge_messages(record, self.rubric)
            request = TeacherRequest(id=rid, messages=messages, sampling=sampling, response_schema=VERDICT_SCHEMA)
            requests.append(request)
        results = self.teacher.generate(requests) if requests else []
        scored: list[ScoreResult] = []
        for _, result in zip(records, results, strict=True):  # one result per record, or a bug
            verdict = verdict_of(result)
            if verdict.failure is not None or verdict.value is None:
                scored.append(ScoreFailure(verdict.failure or JUDGE_UNPARSEABLE, verdict.detail))
                continue
            scored.append(verdict.value.scores())
        return scored
