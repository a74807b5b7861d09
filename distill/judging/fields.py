"""JSON-schema pieces and field checks that several verdicts share: EPITOME levels and a one-sentence rationale."""

from __future__ import annotations

from typing import Any

from distill.judging.verdict import JUDGE_INVALID_FIELD, JUDGE_MISSING_FIELD, VerdictError

LEVEL_SCHEMA: dict[str, Any] = {"type": "integer", "enum": [0, 1, 2]}
# One sentence; bounded so that a guided reply closes its JSON before max_tokens even when a model rambles.
RATIONALE_SCHEMA: dict[str, Any] = {"type": "string", "maxLength": 200}


def required(obj: dict[str, Any], key: str) -> Any:
    """`obj[key]`, or VerdictError(judge_missing_field)."""
    if key not in obj:
        raise VerdictError(JUDGE_MISSING_FIELD, f"the verdict has no {key}")
    return obj[key]


def parse_level(obj: dict[str, Any], key: str) -> int:
    """An EPITOME level 0/1/2 from the verdict object (2.0 passes; True, "2" and 3 do not)."""
    value = required(obj, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value not in (0, 1, 2):
        raise VerdictError(JUDGE_INVALID_FIELD, f"{key} must be 0, 1 or 2, got {value!r}")
    return int(value)
