"""What every seed loader shares: the row error, the message checks, and the Seed row builder.

A loader turns one source record (a CSV conversation, a JSON item, a Parquet row) into a Seed dict or
raises `RowError(reason, field, detail)`; the reader turns that into a Reject naming file, row and field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from distill.emotions import normalize_emotion
from distill.messages import MessageRules, validate_messages
from distill.records import make_id


class RowError(Exception):
    """One malformed source record. `reason` is a snake_case key counted in stats."""

    def __init__(self, reason: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.field = field


@dataclass(frozen=True)
class Limits:
    """What a loader checks a record against, and the repairs its source allows (`SeedSource` policies)."""

    min_turns: int = 1
    max_turns: int = 64
    max_turn_chars: int = 8000
    long_dialogues: str = "reject"  # reject | truncate | window; the last two are applied by the reader (seeds/long.py)
    empty_turns: Literal["reject", "drop"] = "reject"
    roles: tuple[tuple[str, str], ...] = ()  # (source role name, user | assistant | system)

    def role(self, name: str) -> str:
        """A source's role name as an OpenAI role; unmapped names come back as they are (and fail the role check)."""
        mapped = dict(self.roles)
        return mapped.get(name, mapped.get(name.strip().lower(), name))


Repairs = dict[str, int]  # what a loader fixed in a record, counted: {"empty_turns_dropped": 1}


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


def check_messages(messages: Any, limits: Limits, field: str = "messages") -> tuple[list[dict[str, str]], Repairs]:
    """Validate OpenAI-style messages (`distill.messages`, with the source's role map, empty-turn policy and length
    cap), then the turn count. Returns the clean messages and the repairs made (empty turns dropped, per policy)."""
    rules = MessageRules(role_of=limits.role, empty_turns=limits.empty_turns, max_turn_chars=limits.max_turn_chars)
    checked = validate_messages(messages, rules, field)
    if (problem := checked.problem) is not None:
        raise RowError(problem.reason, problem.detail + _SEED_HINTS.get(problem.reason, ""), problem.field)
    clean = checked.messages
    turns = sum(1 for m in clean if m["role"] != "system")
    if turns < limits.min_turns:
        raise RowError("too_few_turns", f"{turns} turns (min_turns={limits.min_turns})", field)
    if turns > limits.max_turns and limits.long_dialogues == "reject":
        raise RowError(
            "too_many_turns",
            f"{turns} turns (max_turns={limits.max_turns}; long_dialogues: window on the source cuts it into windows)",
            field,
        )
    return clean, checked.repairs


ROLE_MAP_HINT = (
    "(map this source's names with `roles:` on the source, e.g. roles: {speaker: user, listener: assistant})"
)
# What a seed source can set to get past a problem, appended to its detail.
_SEED_HINTS = {"unknown_role": f" {ROLE_MAP_HINT}", "empty_turn": " (empty_turns: drop on the source removes it)"}


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
    repairs: Repairs | None = None,
) -> dict[str, Any]:
    """A Seed row; its id is derived from the source name and the record's key in that source. Repairs the loader
    made are kept in the metadata, so a user can see which seeds were fixed up and how."""
    metadata = dict(metadata or {})
    if repairs:
        metadata["repairs"] = dict(repairs)
    return {
        "id": make_id("seed", source, key),
        "source": source,
        "language": language,
        "emotion": emotion,
        "situation": situation,
        "messages": messages,
        "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True, default=str),
    }
