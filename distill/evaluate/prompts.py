"""Held-out seeds -> evaluation prompts: the dialogue up to the last supporter turn, and that turn as the reference.

Seeds come from `holdout/`, which generation never reads (the split, stratified by emotion, depends only on the set
of seeds: `distill.seeds.holdout`). The selection is a pure function of the seed ids (balanced across emotions by
default), taken with bounded heaps, so it is the same on every rerun and memory does not grow with the held-out set.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from distill.emotions import EMOTIONS, polarity
from distill.records import make_reject
from distill.stages import EVAL


@dataclass(frozen=True)
class EvalPrompt:
    id: str  # the seed id
    emotion: str | None
    situation: str | None
    context: list[dict[str, str]]  # user/assistant turns, ending with the seeker's turn
    reference: str | None  # the supporter turn that followed in the seed, when there was one
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seeker_last(self) -> str:
        return next(m["content"] for m in reversed(self.context) if m["role"] == "user")

    @property
    def polarity(self) -> str | None:
        return polarity(self.emotion) if self.emotion in EMOTIONS else None


def prompt_from_seed(seed: dict[str, Any]) -> EvalPrompt | dict[str, Any]:
    """An EvalPrompt, or a reject row when the seed has no seeker turn to answer."""
    turns = [{"role": m["role"], "content": m["content"]} for m in seed["messages"] if m["role"] != "system"]
    # The last supporter turn that answers a seeker turn: the most context, and a human reference to compare with.
    for i in range(len(turns) - 1, 0, -1):
        if turns[i]["role"] == "assistant" and turns[i - 1]["role"] == "user":
            return EvalPrompt(
                seed["id"],
                seed.get("emotion"),
                seed.get("situation"),
                turns[:i],
                turns[i]["content"],
                seed.get("source") or "",
            )
    if turns and turns[-1]["role"] == "user":
        return EvalPrompt(seed["id"], seed.get("emotion"), seed.get("situation"), turns, None, seed.get("source") or "")
    return make_reject(
        EVAL.name,
        "no_seeker_turn",
        "the held-out seed has no seeker (user) turn to respond to",
        record=seed,
        field="messages",
    )


def select_seeds(
    seeds: Iterable[dict[str, Any]], max_prompts: int, *, balance_emotions: bool = True
) -> list[dict[str, Any]]:
    """`max_prompts` seeds, streaming, in id order: the smallest ids, or, balanced, round-robin over emotions.

    Balanced selection keeps the `max_prompts` smallest ids of each emotion (memory: emotions x max_prompts) and takes
    them rank by rank across emotions, so per-emotion results cover as many of the 32 labels as the budget allows.
    """
    if not balance_emotions:
        return sorted(heapq.nsmallest(max_prompts, seeds, key=lambda s: s["id"]), key=lambda s: s["id"])
    # Per emotion, a max-heap (by negated id order) of its smallest ids seen so far.
    heaps: dict[str, list[tuple[_Desc, dict[str, Any]]]] = {}
    for seed in seeds:
        heap = heaps.setdefault(seed.get("emotion") or "", [])
        item = (_Desc(seed["id"]), seed)
        if len(heap) < max_prompts:
            heapq.heappush(heap, item)
        elif item[0] > heap[0][0]:
            heapq.heapreplace(heap, item)
    ranked = {emotion: sorted((s for _, s in heap), key=lambda s: s["id"]) for emotion, heap in heaps.items()}
    picked: list[dict[str, Any]] = []
    for rank in range(max_prompts):
        for emotion in sorted(ranked):
            if rank < len(ranked[emotion]) and len(picked) < max_prompts:
                picked.append(ranked[emotion][rank])
    return sorted(picked, key=lambda s: s["id"])


class _Desc:
    """An id that orders backwards, so heapq's min-heap keeps the largest of the smallest ids on top."""

    __slots__ = ("id",)

    def __init__(self, id_: str) -> None:
        self.id = id_

    def __lt__(self, other: _Desc) -> bool:
        return self.id > other.id

    def __gt__(self, other: _Desc) -> bool:
        return self.id < other.id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.id == other.id


def responder_messages(prompt: EvalPrompt, version: str) -> list[dict[str, str]]:
    """What every answering system sees: the same supporter instruction, then the dialogue so far."""
    path = resources.files("distill.evaluate") / "responder" / f"{version}.txt"  # versioned with eval.rubric_version
    return [{"role": "system", "content": path.read_text(encoding="utf-8").strip()}, *prompt.context]
