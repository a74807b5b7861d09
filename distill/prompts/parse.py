"""Pure parsing of a teacher's reply into one dialogue turn, or `ParseError` with a snake_case `code`.

Small models often go on writing the other side's lines ("Supporter: ...") or wrap the reply in role tags and quotes;
the turn is the speaker's own text up to where another turn starts. A whole dialogue (`parse_whole_dialogue`) is one
JSON object checked against the rules of its schema, since backends without structured output do not enforce them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from distill.prompts.whole import WholeShape
from distill.records import STRATEGIES

# Role tags a teacher may write: ours, the OpenAI roles, counseling corpora's, and Chinese (PsyQA/SoulChat) ones.
_USER_TAGS = ("seeker", "help-seeker", "help seeker", "user", "client", "person", "求助者", "来访者", "用户")
_ASSISTANT_TAGS = (
    "supporter",
    "assistant",
    "counselor",
    "counsellor",
    "listener",
    "helper",
    "支持者",
    "咨询师",
    "倾听者",
)
_TAG_TO_ROLE = {**{t: "user" for t in _USER_TAGS}, **{t: "assistant" for t in _ASSISTANT_TAGS}}
_TAG = re.compile(
    r"^\s*(?:[-*>]\s*)?(?:\*\*|__)?(?:the\s+)?("
    + "|".join(re.escape(t) for t in sorted(_TAG_TO_ROLE, key=len, reverse=True))
    + r")(?:\s*\d+)?(?:\*\*|__)?\s*[:：](?:\*\*|__)?\s*",
    re.IGNORECASE,
)
# Chat-template end tokens a raw completion may carry.
_END_MARKERS = re.compile(r"<\|im_end\|>|<\|endoftext\|>|</s>|<\|eot_id\|>|<\|im_start\|>", re.IGNORECASE)
_QUOTES = "\"'“”‘’「」"


class ParseError(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def role_tag(line: str) -> tuple[str, str] | None:
    """(role, rest of the line) when `line` opens with a role tag such as 'Seeker:'."""
    match = _TAG.match(line)
    if not match:
        return None
    return _TAG_TO_ROLE[match.group(1).lower()], line[match.end() :]


def parse_turn(text: str | None, role: str, *, min_chars: int = 2) -> str:
    """The utterance of `role` in `text`: a leading own tag is dropped; text stops at the next tagged line."""
    if text is None:
        raise ParseError("empty_output", "the teacher returned no text")
    text = _END_MARKERS.split(text, maxsplit=1)[0]
    kept: list[str] = []
    for i, line in enumerate(text.strip().splitlines()):
        tagged = role_tag(line)
        if tagged is not None:
            if i == 0 and tagged[0] == role:
                line = tagged[1]
            else:
                break  # the model started writing another turn
        kept.append(line.rstrip())
    turn = "\n".join(kept).strip()
    if len(turn) >= 2 and turn[0] in _QUOTES and turn[-1] in _QUOTES:
        turn = turn[1:-1].strip()
    if not turn:
        raise ParseError(
            "empty_turn", f"no {role} text before another speaker's tag" if text.strip() else "the reply is empty"
        )
    if len(turn) < min_chars:
        raise ParseError("too_short", f"{len(turn)} characters, need at least {min_chars}")
    return turn


# Latin sentence ends need a following space (so "3.5" or "e.g" do not end one); CJK ends do not.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)|[。！？][”’」]*")


def trim_to_sentence(text: str, *, min_chars: int = 10) -> str:
    """A reply cut off by max_tokens, back to its last complete sentence; ParseError when too little is left."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    kept = text[: ends[-1]].strip() if ends else ""
    if len(kept) < min_chars:
        raise ParseError("truncated", f"cut off by max_tokens with {len(kept)} characters of complete sentences")
    return kept


# -- whole dialogues (generate.style: whole)
# ----------------------------------------------------------------------------

_ROLE_OF_KEY = {"seeker": "user", "supporter": "assistant"}


def _json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a reply (prose, ``` fences and a <think> block around it are skipped)."""
    from distill.judging.verdict import strip_thinking

    text = strip_thinking(_END_MARKERS.split(text, maxsplit=1)[0])
    start = text.find("{")
    if start < 0:
        raise ParseError("not_json", f"no JSON object in the reply: {text[:120]!r}")
    try:
        obj, _ = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise ParseError("not_json", f"{exc.msg} at char {exc.pos} of {len(text)}") from None
    if not isinstance(obj, dict):
        raise ParseError("not_json", f"the reply's JSON is a {type(obj).__name__}, not an object")
    return {str(k).strip().lower(): v for k, v in obj.items()}


def _strategy(value: Any, where: str) -> str:
    name = str(value).strip().lower().replace(" ", "_") if isinstance(value, str) else None
    if name not in STRATEGIES:
        raise ParseError("unknown_strategy", f"{where}: strategy {value!r} is not one of {', '.join(STRATEGIES)}")
    return name


def _whole_turn(item: Any, key: str, where: str, max_chars: int) -> str:
    if not isinstance(item, dict) or not isinstance(item.get(key), str):
        raise ParseError("wrong_shape", f"{where}: expected an object with a {key!r} string, got {str(item)[:120]!r}")
    try:
        turn = parse_turn(item[key], _ROLE_OF_KEY[key])
    except ParseError as exc:
        raise ParseError(exc.code, f"{where}.{key}: {exc.detail}") from None
    if len(turn) > max_chars:
        raise ParseError("turn_too_long", f"{where}.{key}: {len(turn)} characters, at most {max_chars}")
    return turn


def parse_whole_dialogue(text: str | None, shape: WholeShape) -> tuple[list[dict[str, str]], list[str]]:
    """The new turns (OpenAI roles) and the strategy named for each supporter turn, from a reply to the schema of
    `shape` (distill.prompts.whole); ParseError when the reply breaks any of its rules, even on a backend that ignored
    it."""
    if text is None or not text.strip():
        raise ParseError("empty_output", "the teacher returned no text")
    obj = _json_object(text)
    turns: list[dict[str, str]] = []
    strategies: list[str] = []
    if shape.opens_with_reply:
        reply = obj.get("reply")
        if not isinstance(reply, dict):
            raise ParseError(
                "wrong_shape", f"'reply' must be an object with 'strategy' and 'supporter', got {str(reply)[:120]!r}"
            )
        strategies.append(_strategy(reply.get("strategy"), "reply"))
        turns.append({"role": "assistant", "content": _whole_turn(reply, "supporter", "reply", shape.max_chars)})
    exchanges = obj.get("exchanges")
    if not isinstance(exchanges, list):
        raise ParseError("wrong_shape", f"'exchanges' must be a list, got {type(exchanges).__name__}")
    if len(exchanges) != shape.exchanges:
        raise ParseError("wrong_turn_count", f"{len(exchanges)} exchanges, asked for {shape.exchanges}")
    for i, item in enumerate(exchanges, 1):
        where = f"exchanges[{i}]"
        turns.append({"role": "user", "content": _whole_turn(item, "seeker", where, shape.max_chars)})
        strategies.append(_strategy(item.get("strategy"), where))
        turns.append({"role": "assistant", "content": _whole_turn(item, "supporter", where, shape.max_chars)})
    # A small model under a schema fills the slots with one line over and over ("The Seeker", "The Supporter"...).
    seen: set[str] = set()
    for i, turn in enumerate(turns, 1):
        key = " ".join(turn["content"].casefold().split())
        if key in seen:
            raise ParseError("repeated_turn", f"new turn {i} repeats an earlier one: {turn['content'][:80]!r}")
        seen.add(key)
    return turns, strategies
