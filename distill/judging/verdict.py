"""A judge's reply -> a `Verdict`: the value its rubric's parser reads, or one of the failure reasons below.

Every judge reads a reply the same way (`read_verdict`): a failed request or an empty reply is told first, a reasoning
model's <think> block is dropped (its drafts hold braces and labels), then the judge's own parser runs on the answer.
A parser raises `VerdictError` with one of these reasons; nothing is guessed. When the parser found no verdict at all
and the reply hit max_tokens, the reason is `judge_truncated`: a larger budget fixes that, a better prompt does not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from distill.teachers.base import TeacherResult

# The one set of failure reasons, in rejects (`dropped/score_llm_judge/<reason>`), eval stats
# (`judge/<rubric>/failed/<reason>`) and label stats alike.
JUDGE_FAILED = "judge_failed"  # the request itself failed (endpoint down, prompt too long): no answer to read
JUDGE_EMPTY = "judge_empty"  # the judge answered with nothing
JUDGE_TRUNCATED = "judge_truncated"  # cut off by max_tokens before any verdict
JUDGE_UNPARSEABLE = "judge_unparseable"  # no verdict in the reply: no JSON object, no label
JUDGE_MISSING_FIELD = "judge_missing_field"  # a verdict without a field the rubric asks for
JUDGE_INVALID_FIELD = "judge_invalid_field"  # a field of the wrong type or outside its values
JUDGE_AMBIGUOUS = "judge_ambiguous"  # several different verdicts in one reply
FAILURES = (
    JUDGE_FAILED,
    JUDGE_EMPTY,
    JUDGE_TRUNCATED,
    JUDGE_UNPARSEABLE,
    JUDGE_MISSING_FIELD,
    JUDGE_INVALID_FIELD,
    JUDGE_AMBIGUOUS,
)

T = TypeVar("T")


class VerdictError(ValueError):
    """What a parser raises for a reply it cannot read: `reason` is one of FAILURES, the message says what is wrong."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Verdict(Generic[T]):
    value: T | None = None  # what the rubric's parser read
    failure: str | None = None  # one of FAILURES when the reply could not be read
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.failure is None


_THINKING = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)


def strip_thinking(text: str) -> str:
    """The reply without a reasoning model's <think> block (an unclosed one runs to the end)."""
    return _THINKING.sub("", text)


def clip(text: str | None, n: int = 160) -> str:
    """The start of a reply on one line, quoted, for a failure's detail."""
    text = (text or "").strip().replace("\n", " ")
    return repr(text if len(text) <= n else text[:n] + "...")


def first_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a reply (inside a ``` fence if there is one), or VerdictError(judge_unparseable)."""
    fenced = _FENCE.search(text)
    candidate = fenced.group(1) if fenced else text
    start = candidate.find("{")
    if start < 0:
        raise VerdictError(JUDGE_UNPARSEABLE, f"no JSON object in the judge reply: {text[:200]!r}")
    try:
        obj, _ = json.JSONDecoder().raw_decode(candidate[start:])
    except json.JSONDecodeError as exc:
        detail = f"judge reply is not valid JSON ({exc.msg} at char {exc.pos}): {text[:200]!r}"
        raise VerdictError(JUDGE_UNPARSEABLE, detail) from None
    if not isinstance(obj, dict):
        raise VerdictError(JUDGE_UNPARSEABLE, f"judge reply JSON is a {type(obj).__name__}, not an object")
    return obj


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every top-level JSON object in a reply, in order, for judges that wrap them in prose or repeat themselves."""
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
            found.append(obj)
        i = text.find("{", end)
    return found


def read_verdict(result: TeacherResult, parse: Callable[[str], T]) -> Verdict[T]:
    """`parse` (the answer text -> a value, or VerdictError) applied to a teacher result, failures told apart."""
    if result.error is not None or result.text is None:
        return Verdict(failure=JUDGE_FAILED, detail=f"judge request failed: {result.error or 'no text'}")
    if not result.text.strip():
        return Verdict(failure=JUDGE_EMPTY, detail="the judge returned an empty reply")
    try:
        return Verdict(value=parse(strip_thinking(result.text)))
    except VerdictError as exc:
        if exc.reason == JUDGE_UNPARSEABLE and result.finish_reason == "length":
            return Verdict(failure=JUDGE_TRUNCATED, detail=f"the judge hit max_tokens before a verdict: {exc}")
        return Verdict(failure=exc.reason, detail=str(exc))
