"""LLM judge: a versioned rubric (rubrics/empathy_judge_<version>.md) sent through any teacher backend, JSON reply parsed.

Rendering and parsing are pure functions tested without a model. A reply that is not the JSON the rubric asks for is a
reasoned failure (`judge_unparseable`, `judge_invalid_field`), never a guessed score. Writes `judge_er`, `judge_ip`,
`judge_ex`, `judge_empathy` (sum, 0..6), `judge_strategies` (share of the six) and `judge_safe` (1.0 / 0.0).

Each request carries the verdict's JSON schema, so backends with structured outputs (vLLM, OpenAI-compatible) can only
produce a parseable verdict; the tolerant parser stays for the others. The rubric loader, <think> stripping, JSON
extraction and level check are shared with the EPITOME pair judge (`distill.epitome.judge`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

from distill.errors import ConfigError
from distill.filters.dialogue import turns
from distill.records import STRATEGIES, make_id
from distill.scorers.base import scores_of

if TYPE_CHECKING:
    from distill.teachers.base import Teacher

_SECTION = re.compile(r"^\[(system|user)\]\s*$", re.MULTILINE)
LEVEL_KEYS = {"emotional_reactions": "judge_er", "interpretations": "judge_ip", "explorations": "judge_ex"}
LEVEL_SCHEMA: dict[str, Any] = {"type": "integer", "enum": [0, 1, 2]}
# One sentence; bounded so that a guided reply closes its JSON before max_tokens even when a model rambles.
RATIONALE_SCHEMA: dict[str, Any] = {"type": "string", "maxLength": 200}
VERDICT_SCHEMA: dict[str, Any] = {
    "title": "empathy_verdict",
    "type": "object",
    "properties": {
        **{key: LEVEL_SCHEMA for key in LEVEL_KEYS},
        "strategies": {"type": "array", "items": {"type": "string", "enum": list(STRATEGIES)}, "maxItems": len(STRATEGIES)},
        "safe": {"type": "boolean"},
        "rationale": RATIONALE_SCHEMA,
    },
    "required": [*LEVEL_KEYS, "strategies", "safe", "rationale"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Rubric:
    version: str
    system: str
    user: Template


@dataclass(frozen=True)
class Verdict:
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


class JudgeReplyError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def load_rubric(version: str) -> Rubric:
    return read_rubric(resources.files("distill.scorers") / "rubrics" / f"empathy_judge_{version}.md", version, "curate.judge_rubric")


def read_rubric(path: Any, version: str, setting: str) -> Rubric:
    """A rubric file: a comment header, then one [system] and one [user] section ($placeholders in the user one).
    `path` is a Path or an importlib resource; `setting` names the config field that chose it, for the error."""
    if not path.is_file():
        raise ConfigError(f"{setting}: no rubric file {path}")
    text = path.read_text(encoding="utf-8")
    parts = _SECTION.split(text)
    # parts = [header, "system", body, "user", body]
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if set(sections) != {"system", "user"}:
        raise ConfigError(f"{path}: a rubric needs exactly one [system] and one [user] section")
    return Rubric(version, sections["system"], Template(sections["user"]))


def render_transcript(record: dict[str, Any]) -> str:
    names = {"user": "Seeker", "assistant": "Supporter"}
    return "\n".join(f"{names[m['role']]}: {m.get('content') or ''}" for m in turns(record) if m.get("role") in names)


def render_judge_messages(record: dict[str, Any], rubric: Rubric) -> list[dict[str, str]]:
    user = rubric.user.safe_substitute(emotion=record.get("emotion") or "unknown", transcript=render_transcript(record))
    return [{"role": "system", "content": rubric.system}, {"role": "user", "content": user}]


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)


def strip_thinking(text: str) -> str:
    """The reply without a reasoning model's <think> block (an unclosed one runs to the end), whose drafts hold braces."""
    return _THINKING.sub("", text)


def first_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a reply (inside a ``` fence if there is one), or JudgeReplyError(judge_unparseable)."""
    fenced = _FENCE.search(text)
    candidate = fenced.group(1) if fenced else text
    start = candidate.find("{")
    if start < 0:
        raise JudgeReplyError("judge_unparseable", f"no JSON object in the judge reply: {text[:200]!r}")
    try:
        obj, _ = json.JSONDecoder().raw_decode(candidate[start:])
    except json.JSONDecodeError as exc:
        raise JudgeReplyError("judge_unparseable", f"judge reply is not valid JSON ({exc.msg} at char {exc.pos}): {text[:200]!r}") from None
    if not isinstance(obj, dict):
        raise JudgeReplyError("judge_unparseable", f"judge reply JSON is a {type(obj).__name__}, not an object")
    return obj


def parse_level(obj: dict[str, Any], key: str) -> int:
    """An EPITOME level 0/1/2 from the verdict object (2.0 passes; True, "2" and 3 do not)."""
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value not in (0, 1, 2):
        raise JudgeReplyError("judge_invalid_field", f"{key} must be 0, 1 or 2, got {value!r}")
    return int(value)


def parse_judge_reply(text: str) -> Verdict:
    """The judge's reply -> Verdict, or JudgeReplyError naming what is wrong (never a guessed score)."""
    obj = first_json_object(strip_thinking(text))
    levels = {key: parse_level(obj, key) for key in LEVEL_KEYS}
    strategies = obj.get("strategies", [])
    if not isinstance(strategies, list) or not all(isinstance(s, str) for s in strategies):
        raise JudgeReplyError("judge_invalid_field", f"strategies must be a list of names, got {strategies!r}")
    normalized = tuple(sorted({s.strip().lower().replace(" ", "_") for s in strategies} & set(STRATEGIES)))
    safe = obj.get("safe")
    if not isinstance(safe, bool):
        raise JudgeReplyError("judge_invalid_field", f"safe must be true or false, got {safe!r}")
    return Verdict(**levels, strategies=normalized, safe=safe, rationale=str(obj.get("rationale", ""))[:500])


class LLMJudgeScorer:
    name = "llm_judge"

    def __init__(self, teacher: Teacher, rubric: Rubric, *, max_tokens: int = 256) -> None:
        self.teacher, self.rubric, self.max_tokens = teacher, rubric, max_tokens

    def close(self) -> None:
        self.teacher.close()

    def score(self, records: list[dict[str, Any]]) -> list[tuple[str, str] | None]:
        from distill.teachers.base import SamplingParams, TeacherRequest

        requests = []
        for record in records:
            rid = make_id("judge", self.rubric.version, record["id"])
            # Greedy + a seed derived from the record: the same dialogue gets the same rating on a rerun.
            sampling = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=self.max_tokens, seed=int(rid[:8], 16))
            messages = render_judge_messages(record, self.rubric)
            requests.append(TeacherRequest(id=rid, messages=messages, sampling=sampling, response_schema=VERDICT_SCHEMA))
        results = self.teacher.generate(requests) if requests else []
        failures: list[tuple[str, str] | None] = []
        for record, result in zip(records, results, strict=True):
            if result.error is not None or result.text is None:
                failures.append(("judge_failed", f"judge request failed: {result.error}"))
                continue
            try:
                verdict = parse_judge_reply(result.text)
            except JudgeReplyError as exc:
                failures.append((exc.reason, str(exc)))
                continue
            scores_of(record).update(verdict.scores())
            failures.append(None)
        return failures
