"""Synthetic dialogues for dedup tests: random English-like word sequences, so distinct ones share almost no shingles,
and near copies of them with a chosen number of words changed."""

from __future__ import annotations

import random
from typing import Any

WORDS = (
    "feel friend family work sleep worry hope tired alone talk listen help week night morning school home moved lost "
    "job sister brother mother father dog cat city money exam interview doctor anxious sad happy angry proud afraid "
    "call message weekend holiday birthday party dinner walk run rain snow summer winter letter phone car train bus"
).split()


def random_dialogue(rng: random.Random, key: str, turns: int = 4, words: int = 40) -> dict[str, Any]:
    roles = ["user", "assistant"] * turns
    return {
        "id": key,
        "messages": [
            {"role": roles[i], "content": " ".join(rng.choice(WORDS) for _ in range(words))} for i in range(turns)
        ],
        "scores": {},
    }


def perturb(d: dict[str, Any], key: str, rng: random.Random, changes: int) -> dict[str, Any]:
    """A near copy: `changes` words replaced in the last turn."""
    messages = [dict(m) for m in d["messages"]]
    last = messages[-1]["content"].split()
    for i in rng.sample(range(len(last)), changes):
        last[i] = "zzz" + str(i)
    messages[-1]["content"] = " ".join(last)
    return {"id": key, "messages": messages, "scores": dict(d["scores"])}
