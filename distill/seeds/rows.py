"""What every seed loader shares: the row error, the message checks, and the Seed row builder.

A loader turns one source record (a CSV conversation, a JSON item, a Parquet row) into a Seed dict or
raises `RowError(reason, field, detail)`; the reader turns that into a Reject naming file, row and field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from distill.emotions import normalize_emotion
from distill.records import ROLES, make_id


class RowError(Exception):
    """One malformed source record. `reason` is a snake_case key counted in stats."""

    def __init__(self, reason: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class Limits:
    min_turns: int = 1
    max_turns: int = 64
    max_turn_chars: int = 8000


def require(obj: dict[str, Any], field: str, kind: type | tuple[type, ...] = str, *, where: str | None = None) -> Any:
    """obj[field], checked present, non-null and of `kind`; raises a RowError naming the field otherwise."""
    name = f"{where}.{field}" if where else field
    if field not in obj or obj[field] is None:
        raise RowError("missing_field", f"required field {name!r} is missing", name)
    value = obj[field]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RowError("wrong_type", f"field {name!r} should be {expected}, got {type(value).__name__}", name)
    return value


def optional_str(obj: dict[str, Any], field: str) -> str | None:
    value = obj.get(field)
    if value is None or (isinstance(value, float) and value != value):  # pandas NaN
        return None
    if not isinstance(value, str):
        raise RowError("wrong_type", f"field {field!r} should be a string, got {type(value).__name__}", field)
    return value.strip() or None


def check_emotion(label: Any, field: str = "emotion") -> str | None:
    """None stays None; anything else must be one of the 32 ED labels (or a known alias)."""
    if label is None:
        return None
    if not isinstance(label, str):
        raise RowError("wrong_type", f"field {field!r} should be a string, got {type(label).__name__}", field)
    if not label.strip():
        return None
    emotion = normalize_emotion(label)
    if emotion is None:
        raise RowError("unknown_emotion", f"{label!r} is not one of the 32 EmpatheticDialogues emotions", field)
    return emotion


def check_messages(messages: Any, limits: Limits, field: str = "messages") -> list[dict[str, str]]:
    """Validate OpenAI-style messages: known roles, non-empty bounded turns, optional leading system, alternation."""
    if not isinstance(messages, list):
        raise RowError("wrong_type", f"field {field!r} should be a list of turns, got {type(messages).__name__}", field)
    if not messages:
        raise RowError("empty_dialogue", "the dialogue has no turns", field)
    clean: list[dict[str, str]] = []
    for i, turn in enumerate(messages):
        where = f"{field}[{i}]"
        if not isinstance(turn, dict):
            raise RowError("wrong_type", f"{where} should be an object with role and content, got {type(turn).__name__}", where)
        role = require(turn, "role", where=where)
        content = require(turn, "content", where=where)
        if role not in ROLES:
            raise RowError("unknown_role", f"{where}.role is {role!r}; expected one of {', '.join(ROLES)}", f"{where}.role")
        if role == "system" and i != 0:
            raise RowError("misplaced_system", f"{where} is a system turn after the start", f"{where}.role")
        if not content.strip():
            raise RowError("empty_turn", f"{where}.content is empty", f"{where}.content")
        if len(content) > limits.max_turn_chars:
            raise RowError(
                "absurd_length", f"{where}.content has {len(content)} chars (max_turn_chars={limits.max_turn_chars})", f"{where}.content"
            )
        if clean and clean[-1]["role"] == role:
            raise RowError("roles_not_alternating", f"{where} is a second {role!r} turn in a row", f"{where}.role")
        clean.append({"role": role, "content": content.strip()})
    turns = sum(1 for m in clean if m["role"] != "system")
    if turns < limits.min_turns:
        raise RowError("too_few_turns", f"{turns} turns (min_turns={limits.min_turns})", field)
    if turns > limits.max_turns:
        raise RowError("too_many_turns", f"{turns} turns (max_turns={limits.max_turns})", field)
    return clean


def merge_consecutive(turns: list[dict[str, str]]) -> tuple[list[dict[str, str]], int]:
    """Join consecutive same-role turns (ESConv splits one supporter reply over several utterances)."""
    merged: list[dict[str, str]] = []
    joins = 0
    for turn in turns:
        if merged and merged[-1]["role"] == turn["role"]:
            merged[-1] = {"role": turn["role"], "content": f"{merged[-1]['content']} {turn['content']}".strip()}
            joins += 1
        else:
            merged.append(dict(turn))
    return merged, joins


def seed_row(
    *,
    source: str,
    key: str,
    messages: list[dict[str, str]],
    language: str | None,
    emotion: str | None = None,
    situation: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Seed row; its id is derived from the source name and the record's key in that source."""
    return {
        "id": make_id("seed", source, key),
        "source": source,
        "language": language,
        "emotion": emotion,
        "situation": situation,
        "messages": messages,
        "metadata": json.dumps(metadata or {}, ensure_ascii=False, sort_keys=True, default=str),
    }
