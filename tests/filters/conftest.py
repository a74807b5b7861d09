"""A tiny dialogue-record builder for filter tests: alternating seeker/supporter turns from plain strings."""

from __future__ import annotations

from typing import Any

import pytest


def make_dialogue(*texts: str, roles: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    roles = roles or ["user", "assistant"] * (len(texts) // 2 + 1)
    return {
        "id": "d1",
        "messages": [{"role": r, "content": t} for r, t in zip(roles, texts)],
        "finish_reason": "stop",
        "scores": {},
        **extra,
    }


@pytest.fixture
def dlg():
    return make_dialogue


SEEKER = "My sister stopped talking to me after an argument and I keep replaying it."
SUPPORTER = "That sounds painful, and it makes sense that you keep replaying it. What do you wish you could tell her?"
