"""The evaluation judge: two rubrics of the judge kit (`distill.judging`) rendered into chat messages, and pure parsers
of the judge's answers.

Two rubrics (`distill/judging/rubrics/<eval.rubric_version>/<name>.txt`):
- `empathy_rating`: Good / Okay / Bad compared with how a caring person would respond (Welivita & Pu, 2024);
- `cehs`: SoulChat's content / empathy / helpfulness (0-2) and safety (0-1).
Each request carries its rubric's JSON schema (`SCHEMAS`), so backends with structured output (vLLM, OpenAI-compatible)
can only answer with a verdict that parses: short enums and a bounded reason, so the guided reply closes its JSON within
`eval.judge_max_tokens`. Backends without it (transformers) are read by the tolerant parsers below. A reply that cannot
be read is a `Verdict` with `failure` set (one of `distill.judging.verdict.FAILURES`), never an exception: judges,
small ones above all, ramble, truncate and invent labels, and each such reply is counted, not fatal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from distill.judging.rubric import Rubric, load_rubric
from distill.judging.transcript import render_transcript
from distill.judging.verdict import (
    JUDGE_AMBIGUOUS,
    JUDGE_INVALID_FIELD,
    JUDGE_MISSING_FIELD,
    JUDGE_UNPARSEABLE,
    Verdict,
    VerdictError,
    clip,
    json_objects,
    read_verdict,
)
from distill.records import make_id
from distill.teachers.base import SamplingParams, Teacher, TeacherRequest, TeacherResult

RUBRICS = ("empathy_rating", "cehs")
RUBRIC_FIELDS = ("dialogue", "response")
RATINGS = ("good", "okay", "bad")
CEHS_RANGES: dict[str, tuple[int, int]] = {
    "content": (0, 2),
    "empathy": (0, 2),
    "helpfulness": (0, 2),
    "safety": (0, 1),
}
_RATING_ALIASES = {"good": "good", "okay": "okay", "ok": "okay", "bad": "bad"}

# The reason is for a person reading eval.json, not for the score: 80 characters (~20 tokens) keeps the whole guided
# reply, keys included, under 40 tokens, inside the demo's eval.judge_max_tokens=48 even on a 135M judge.
REASON_MAX_CHARS = 80
RATING_SCHEMA: dict[str, Any] = {
    "title": "empathy_rating",
    "type": "object",
    "properties": {
        "rating": {"type": "string", "enum": ["Good", "Okay", "Bad"]},
        "reason": {"type": "string", "maxLength": REASON_MAX_CHARS},
    },
    "required": ["rating", "reason"],
    "additionalProperties": False,
}
CEHS_SCHEMA: dict[str, Any] = {
    "title": "cehs_scores",
    "type": "object",
    "properties": {k: {"type": "integer", "enum": list(range(lo, hi + 1))} for k, (lo, hi) in CEHS_RANGES.items()},
    "required": list(CEHS_RANGES),
    "additionalProperties": False,
}
SCHEMAS = {"empathy_rating": RATING_SCHEMA, "cehs": CEHS_SCHEMA}


def load_eval_rubric(name: str, version: str) -> Rubric:
    return load_rubric(name, version, setting="eval.rubric_version", fields=RUBRIC_FIELDS)


def judge_messages(rubric: Rubric, context: Sequence[dict[str, str]], response: str) -> list[dict[str, str]]:
    return rubric.messages(dialogue=render_transcript(context), response=response.strip())


# -- parsing -------------------------------------------------------------------------------------------------------


def _objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object in the answer, keys folded (`"Rating"`, `" rating "`): judges vary the case of keys."""
    return [{str(k).strip().lower(): v for k, v in obj.items()} for obj in json_objects(text)]


_RATING_LINE = re.compile(r"\brating\b\W{0,6}(good|okay|ok|bad)\b", re.IGNORECASE)
_BARE_LABEL = re.compile(r"^\W*(good|okay|ok|bad)\W*$", re.IGNORECASE)


def _read_rating(text: str) -> str:
    """Good/Okay/Bad from a JSON object `{"rating": ...}`, a `Rating: X` line, or an answer that is just the label."""
    labels = {str(obj["rating"]).strip().lower() for obj in _objects(text) if "rating" in obj}
    if not labels:
        labels = {m.lower() for m in _RATING_LINE.findall(text)} or {m.lower() for m in _BARE_LABEL.findall(text)}
    if not labels:
        raise VerdictError(JUDGE_UNPARSEABLE, f"no rating in the judge reply: {clip(text)}")
    bad = sorted(label for label in labels if label not in _RATING_ALIASES)
    if bad:
        raise VerdictError(JUDGE_INVALID_FIELD, f"rating {bad[0]!r} is not one of Good/Okay/Bad")
    canonical = {_RATING_ALIASES[label] for label in labels}
    if len(canonical) > 1:
        raise VerdictError(JUDGE_AMBIGUOUS, f"the judge gave several ratings: {sorted(canonical)}")
    return canonical.pop()


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _read_cehs(text: str) -> dict[str, int]:
    """{content, empathy, helpfulness, safety} as integers in range, from the last JSON object that has any of them."""
    objects = [obj for obj in _objects(text) if any(k in obj for k in CEHS_RANGES)]
    if not objects:
        raise VerdictError(JUDGE_UNPARSEABLE, f"no scores in the judge reply: {clip(text)}")
    obj = objects[-1]
    missing = [k for k in CEHS_RANGES if k not in obj]
    if missing:
        raise VerdictError(JUDGE_MISSING_FIELD, f"the judge reply has no {', '.join(missing)}")
    scores: dict[str, int] = {}
    for key, (lo, hi) in CEHS_RANGES.items():
        value = _as_int(obj[key])
        if value is None:
            raise VerdictError(JUDGE_INVALID_FIELD, f"{key} = {obj[key]!r} is not an integer")
        if not lo <= value <= hi:
            raise VerdictError(JUDGE_INVALID_FIELD, f"{key} = {value} is outside {lo}..{hi}")
        scores[key] = value
    return scores


def parse_rating(result: TeacherResult) -> Verdict[str]:
    return read_verdict(result, _read_rating)


def parse_cehs(result: TeacherResult) -> Verdict[dict[str, int]]:
    return read_verdict(result, _read_cehs)


PARSERS = {"empathy_rating": parse_rating, "cehs": parse_cehs}


# -- running -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeItem:
    key: str  # unique per (prompt, system): the request id is derived from it
    context: list[dict[str, str]]
    response: str


class Judge:
    """Rates responses with every rubric through any Teacher backend, greedily so that ratings are reproducible."""

    def __init__(self, teacher: Teacher, version: str, max_tokens: int, batch_size: int = 64) -> None:
        self.teacher = teacher
        self.rubrics = [load_eval_rubric(name, version) for name in RUBRICS]
        self.sampling = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0)
        self.batch_size = batch_size

    def rate(self, items: Sequence[JudgeItem]) -> list[dict[str, Verdict[Any]]]:
        """One {rubric name: Verdict} per item, in order."""
        requests = [
            TeacherRequest(
                id=make_id("judge", rubric.name, rubric.version, item.key),
                messages=judge_messages(rubric, item.context, item.response),
                sampling=self.sampling,
                response_schema=SCHEMAS[rubric.name],
            )
            for item in items
            for rubric in self.rubrics
        ]
        results: list[TeacherResult] = []
        for start in range(0, len(requests), self.batch_size):
            results.extend(self.teacher.generate(requests[start : start + self.batch_size]))
        per_item = len(self.rubrics)
        return [
            {rubric.name: PARSERS[rubric.name](results[i * per_item + j]) for j, rubric in enumerate(self.rubrics)}
            for i in range(len(items))
        ]
