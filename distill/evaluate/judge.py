"""The LLM judge: versioned rubric files rendered into chat messages, and pure parsers of the judge's replies.

Two rubrics (files under `rubrics/<version>/`):
- `empathy_rating`: Good / Okay / Bad compared with how a caring person would respond (Welivita & Pu, 2024);
- `cehs`: SoulChat's content / empathy / helpfulness (0-2) and safety (0-1).
Each request carries its rubric's JSON schema (`SCHEMAS`), so backends with structured output (vLLM, OpenAI-compatible)
can only answer with a verdict that parses: short enums and a bounded reason, so the guided reply closes its JSON within
`eval.judge_max_tokens`. Backends without it (transformers) are read by the tolerant parsers below. A reply that cannot
be read is a `Verdict` with `failure` set (a snake_case reason + detail), never an exception: judges, small ones above
all, ramble, truncate and invent labels, and each such reply is counted, not fatal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any

from distill.errors import ConfigError
from distill.records import make_id
from distill.scorers.llm_judge import strip_thinking
from distill.teachers.base import SamplingParams, Teacher, TeacherRequest, TeacherResult

RUBRICS = ("empathy_rating", "cehs")
RATINGS = ("good", "okay", "bad")
CEHS_RANGES: dict[str, tuple[int, int]] = {"content": (0, 2), "empathy": (0, 2), "helpfulness": (0, 2), "safety": (0, 1)}
_RATING_ALIASES = {"good": "good", "okay": "okay", "ok": "okay", "bad": "bad"}
_ROLE_NAMES = {"user": "Seeker", "assistant": "Supporter"}

# The reason is for a person reading eval.json, not for the score: 80 characters (~20 tokens) keeps the whole guided
# reply, keys included, under 40 tokens, inside the demo's eval.judge_max_tokens=48 even on a 135M judge.
REASON_MAX_CHARS = 80
RATING_SCHEMA: dict[str, Any] = {
    "title": "empathy_rating",
    "type": "object",
    "properties": {"rating": {"type": "string", "enum": ["Good", "Okay", "Bad"]}, "reason": {"type": "string", "maxLength": REASON_MAX_CHARS}},
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


@dataclass(frozen=True)
class Verdict:
    value: Any = None  # "good"/"okay"/"bad" for the rating, {criterion: int} for CEHS
    failure: str | None = None  # snake_case reason when the reply could not be read
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class Rubric:
    name: str
    version: str
    system: str
    user: Template


def load_rubric(name: str, version: str) -> Rubric:
    """`rubrics/<version>/<name>.txt`: the system message, a line `---`, then the user message with $dialogue and $response."""
    path = resources.files("distill.evaluate") / "rubrics" / version / f"{name}.txt"
    if not path.is_file():
        raise ConfigError(f"eval.rubric_version {version!r}: rubric file {name}.txt not found under distill/evaluate/rubrics/{version}/")
    system, sep, user = path.read_text(encoding="utf-8").partition("\n---\n")
    if not sep:
        raise ConfigError(f"rubric {version}/{name}.txt: expected the system message, a line '---', then the user message")
    return Rubric(name, version, system.strip(), Template(user.strip()))


def render_dialogue(context: Sequence[dict[str, str]]) -> str:
    return "\n".join(f"{_ROLE_NAMES.get(m['role'], m['role'])}: {m['content'].strip()}" for m in context if m["role"] != "system")


def judge_messages(rubric: Rubric, context: Sequence[dict[str, str]], response: str) -> list[dict[str, str]]:
    user = rubric.user.safe_substitute(dialogue=render_dialogue(context), response=response.strip())
    return [{"role": "system", "content": rubric.system}, {"role": "user", "content": user}]


# -- parsing ------------------------------------------------------------------------------------------------------------


def _json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object embedded in `text` (judges wrap them in prose or ``` fences)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    i = text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            found.append({str(k).strip().lower(): v for k, v in obj.items()})
        i = text.find("{", end)
    return found


def _no_answer(result: TeacherResult, what: str) -> Verdict:
    if result.finish_reason == "length":
        return Verdict(failure="truncated_reply", detail=f"the judge hit max_tokens before giving {what}: {_clip(result.text)}")
    return Verdict(failure=f"no_{what}_found", detail=f"no {what} in the judge reply: {_clip(result.text)}")


def _clip(text: str | None, n: int = 160) -> str:
    text = (text or "").strip().replace("\n", " ")
    return repr(text if len(text) <= n else text[:n] + "...")


def _answer_text(result: TeacherResult) -> str:
    """The reply without a reasoning model's <think> block, where labels are weighed before the answer."""
    return strip_thinking(result.text or "")


def _failed_call(result: TeacherResult) -> Verdict | None:
    if result.error is not None or result.text is None:
        return Verdict(failure="judge_error", detail=result.error or "the judge returned no text")
    if not result.text.strip():
        return Verdict(failure="empty_reply", detail="the judge returned an empty reply")
    return None


_RATING_LINE = re.compile(r"\brating\b\W{0,6}(good|okay|ok|bad)\b", re.IGNORECASE)
_BARE_LABEL = re.compile(r"^\W*(good|okay|ok|bad)\W*$", re.IGNORECASE)


def parse_rating(result: TeacherResult) -> Verdict:
    """Good/Okay/Bad from a JSON object `{"rating": ...}`, a `Rating: X` line, or a reply that is just the label."""
    if (failure := _failed_call(result)) is not None:
        return failure
    text = _answer_text(result)
    labels = {str(obj["rating"]).strip().lower() for obj in _json_objects(text) if "rating" in obj}
    if not labels:
        labels = {m.lower() for m in _RATING_LINE.findall(text)} or {m.lower() for m in _BARE_LABEL.findall(text)}
    if not labels:
        return _no_answer(result, "rating")
    canonical = {_RATING_ALIASES.get(label) for label in labels}
    if None in canonical:
        bad = sorted(label for label in labels if label not in _RATING_ALIASES)
        return Verdict(failure="invalid_rating", detail=f"rating {bad[0]!r} is not one of Good/Okay/Bad")
    if len(canonical) > 1:
        return Verdict(failure="ambiguous_rating", detail=f"the judge gave several ratings: {sorted(canonical)}")
    return Verdict(value=canonical.pop())


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


def parse_cehs(result: TeacherResult) -> Verdict:
    """{content, empathy, helpfulness, safety} as integers in range, from the last JSON object that has any of them."""
    if (failure := _failed_call(result)) is not None:
        return failure
    objects = [obj for obj in _json_objects(_answer_text(result)) if any(k in obj for k in CEHS_RANGES)]
    if not objects:
        return _no_answer(result, "scores")
    obj = objects[-1]
    missing = [k for k in CEHS_RANGES if k not in obj]
    if missing:
        return Verdict(failure="missing_score", detail=f"the judge reply has no {', '.join(missing)}")
    scores: dict[str, int] = {}
    for key, (lo, hi) in CEHS_RANGES.items():
        value = _as_int(obj[key])
        if value is None:
            return Verdict(failure="score_not_integer", detail=f"{key} = {obj[key]!r} is not an integer")
        if not lo <= value <= hi:
            return Verdict(failure="score_out_of_range", detail=f"{key} = {value} is outside {lo}..{hi}")
        scores[key] = value
    return Verdict(value=scores)


PARSERS = {"empathy_rating": parse_rating, "cehs": parse_cehs}


# -- running ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeItem:
    key: str  # unique per (prompt, system): the request id is derived from it
    context: list[dict[str, str]]
    response: str


class Judge:
    """Rates responses with every rubric through any Teacher backend; greedy decoding so ratings are reproducible."""

    def __init__(self, teacher: Teacher, version: str, max_tokens: int, batch_size: int = 64) -> None:
        self.teacher = teacher
        self.rubrics = [load_rubric(name, version) for name in RUBRICS]
        self.sampling = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=0)
        self.batch_size = batch_size

    def rate(self, items: Sequence[JudgeItem]) -> list[dict[str, Verdict]]:
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
            {rubric.name: PARSERS[rubric.name](results[i * per_item + j]) for j, rubric in enumerate(self.rubrics)} for i in range(len(items))
        ]
