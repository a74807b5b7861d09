"""A tiny dialogue-record builder for scorer tests."""

from __future__ import annotations

from typing import Any

import pytest


def make_dialogue(*texts: str, **extra: Any) -> dict[str, Any]:
    roles = ["user", "assistant"] * (len(texts) // 2 + 1)
    return {
        "id": extra.pop("id", "d1"),
        "emotion": "sad",
        "messages": [{"role": r, "content": t} for r, t in zip(roles, texts)],
        "scores": {},
        **extra,
    }


@pytest.fixture
def dlg():
    return make_dialogue
