"""The one check of a message list, with one set of reasons: seeds, the role-order filter and training data use it.

Every list must be a list of {role, content} objects with OpenAI roles, a system turn only at the start, seeker and
supporter turns alternating and at least one of them. What differs between callers is policy, given as
`MessageRules`: a source's role names, empty turns (reject, drop as a repair, or leave to a length filter), a turn
length cap, whether the seeker must open, whether an assistant turn is required. Turns are read in order and the
first problem found is the answer.

Reasons: wrong_type, missing_field, unknown_role, misplaced_system, empty_turn, absurd_length, roles_not_alternating,
starts_with_supporter, empty_dialogue, no_assistant_turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from distill.records import ROLES


@dataclass(frozen=True)
class MessageProblem:
    reason: str  # snake_case, counted in stats
    detail: str  # names the turn and what is wrong with it
    field: str  # where: "messages[3].content"


@dataclass(frozen=True)
class MessageRules:
    role_of: Callable[[str], str] | None = None  # a source's role name -> an OpenAI role (seeds' `roles:` map)
    # drop: a repair, counted in `repairs`; allow: left to a length filter (`TurnLength`)
    empty_turns: Literal["reject", "drop", "allow"] = "reject"
    max_turn_chars: int | None = None
    seeker_first: bool = False  # teacher dialogues open with the seeker
    require_assistant: bool = False  # training needs a turn to learn from


@dataclass
class CheckedMessages:
    """The cleaned messages (contents stripped, repairs applied), the repairs counted, and the first problem."""

    messages: list[dict[str, str]]
    repairs: dict[str, int]
    problem: MessageProblem | None = None


class _Problem(Exception):
    """Raised inside the scan so each check stays one `if`; `validate_messages` turns it into the answer."""

    def __init__(self, reason: str, detail: str, where: str) -> None:
        self.problem = MessageProblem(reason, detail, where)


DEFAULT_RULES = MessageRules()


def first_problem(messages: Any, rules: MessageRules = DEFAULT_RULES, field: str = "messages") -> MessageProblem | None:
    return validate_messages(messages, rules, field).problem


def validate_messages(messages: Any, rules: MessageRules = DEFAULT_RULES, field: str = "messages") -> CheckedMessages:
    clean: list[dict[str, str]] = []
    repairs: dict[str, int] = {}
    try:
        _scan(messages, rules, field, clean, repairs)
    except _Problem as exc:
        return CheckedMessages(clean, repairs, exc.problem)
    return CheckedMessages(clean, repairs, None)


def _required_str(turn: dict[str, Any], key: str, where: str) -> str:
    name = f"{where}.{key}"
    value = turn.get(key)
    if value is None:
        raise _Problem("missing_field", f"required field {name!r} is missing", name)
    if not isinstance(value, str):
        raise _Problem("wrong_type", f"field {name!r} should be str, got {type(value).__name__}", name)
    return value


def _scan(messages: Any, rules: MessageRules, field: str, clean: list[dict[str, str]], repairs: dict[str, int]) -> None:
    if not isinstance(messages, list):
        raise _Problem("wrong_type", f"field {field!r} should be a list of turns, got {type(messages).__name__}", field)
    if not messages:
        raise _Problem("empty_dialogue", "the dialogue has no turns", field)
    for i, turn in enumerate(messages):
        where = f"{field}[{i}]"
        if not isinstance(turn, dict):
            detail = f"{where} should be an object with role and content, got {type(turn).__name__}"
            raise _Problem("wrong_type", detail, where)
        role = _required_str(turn, "role", where)
        role = rules.role_of(role) if rules.role_of is not None else role
        text = _required_str(turn, "content", where)
        if role not in ROLES:
            detail = f"{where}.role is {role!r}; expected one of {', '.join(ROLES)}"
            raise _Problem("unknown_role", detail, f"{where}.role")
        if role == "system" and clean:
            raise _Problem("misplaced_system", f"{where} is a system turn after the start", f"{where}.role")
        if not text.strip() and rules.empty_turns != "allow":
            if rules.empty_turns == "drop":
                repairs["empty_turns_dropped"] = repairs.get("empty_turns_dropped", 0) + 1
                continue
            raise _Problem("empty_turn", f"{where}.content is empty", f"{where}.content")
        if rules.max_turn_chars is not None and len(text) > rules.max_turn_chars:
            detail = f"{where}.content has {len(text)} chars (max_turn_chars={rules.max_turn_chars})"
            raise _Problem("absurd_length", detail, f"{where}.content")
        if clean and clean[-1]["role"] == role:
            if repairs.get("empty_turns_dropped"):  # the dropped turn separated these two: they are one message now
                clean[-1] = {"role": role, "content": f"{clean[-1]['content']}\n{text.strip()}"}
                repairs["turns_joined"] = repairs.get("turns_joined", 0) + 1
                continue
            raise _Problem("roles_not_alternating", f"{where} is a second {role!r} turn in a row", f"{where}.role")
        if rules.seeker_first and role == "assistant" and all(m["role"] == "system" for m in clean):
            detail = f"{where} is the supporter's; dialogues start with the seeker"
            raise _Problem("starts_with_supporter", detail, f"{where}.role")
        clean.append({"role": role, "content": text.strip()})
    if not any(m["role"] != "system" for m in clean):
        detail = "every turn is empty" if repairs.get("empty_turns_dropped") else "no seeker or supporter turns"
        raise _Problem("empty_dialogue", detail, field)
    if rules.require_assistant and not any(m["role"] == "assistant" for m in clean):
        raise _Problem("no_assistant_turn", "no assistant turn to learn from", field)
