"""EmPO preference pairs: chosen = the supporter's reply grounded in the seeker's emotion; rejected = a reply grounded
in the opposite emotion (distill.emotions.OPPOSITE), taken from another curated dialogue (`cross_dialogue`) or written
by the teacher on request (`teacher`).

One pair per dialogue, on its first supporter reply. Memory is bounded: the cross-dialogue pool keeps a deterministic
bottom-k sample of replies per emotion, so the choice of rejected reply does not depend on shard order.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill.emotions import OPPOSITE
from distill.records import make_id
from distill.seeds.licenses import combine
from distill.shards import iter_rows
from distill.stats import StageStats

if TYPE_CHECKING:
    from distill.teachers.base import Teacher

log = logging.getLogger(__name__)
POOL_PER_EMOTION = 64
# Prompt for the teacher method (version it with the pair method name if it ever changes).
TEACHER_REJECTED_V1 = (
    "You are replying in a supportive conversation, but you believe the person feels {emotion}. Reply to their last "
    "message as if that were how they feel. One short message, in the same language."
)


def first_exchange(dialogue: dict[str, Any]) -> tuple[list[dict[str, str]], str] | None:
    """(context up to the first supporter reply, that reply), or None when the dialogue has no such reply."""
    messages = dialogue["messages"]
    for turn, m in enumerate(messages):
        if m["role"] == "assistant" and any(c["role"] == "user" for c in messages[:turn]):
            return [{"role": c["role"], "content": c["content"]} for c in messages[:turn]], m["content"]
    return None


def _rank(dialogue_id: str) -> int:
    return int(make_id("pref-pool", dialogue_id), 16)


COLUMNS = ["id", "emotion", "messages", "source", "license"]


def build_pool(curated: Path) -> dict[str, list[tuple[str, str, str | None]]]:
    """emotion -> up to POOL_PER_EMOTION (dialogue id, first reply, licence), the same sample whatever the shard order."""
    heaps: dict[str, list[tuple[int, str, str, str | None]]] = {}
    for d in iter_rows(curated, columns=COLUMNS):
        exchange = first_exchange(d)
        if d["emotion"] is None or exchange is None:
            continue
        heap = heaps.setdefault(d["emotion"], [])
        item = (-_rank(d["id"]), d["id"], exchange[1], d["license"] or "")  # max-heap on rank keeps the k smallest ranks
        if len(heap) < POOL_PER_EMOTION:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)
    return {e: sorted((rid, text, lic) for _, rid, text, lic in h) for e, h in heaps.items()}


def _pair(
    dialogue: dict[str, Any],
    prompt: list[dict[str, str]],
    chosen: str,
    rejected: str,
    rejected_emotion: str,
    method: str,
    rejected_license: str | None = None,
) -> dict[str, Any]:
    # A rejected reply taken from another dialogue brings that dialogue's licence terms with it.
    license = combine([dialogue["license"], rejected_license]) if method == "cross_dialogue" else dialogue["license"]
    return {
        "id": make_id("pref", dialogue["id"], method),
        "dialogue_id": dialogue["id"],
        "prompt": prompt,
        "chosen": chosen,
        "rejected": rejected,
        "emotion": dialogue["emotion"],
        "rejected_emotion": rejected_emotion,
        "method": method,
        "source": dialogue["source"],
        "license": license,
    }


def cross_dialogue_pairs(curated: Path, stats: StageStats) -> Iterator[dict[str, Any]]:
    pool = build_pool(curated)
    for d in iter_rows(curated, columns=COLUMNS):
        exchange = first_exchange(d)
        if d["emotion"] is None or d["emotion"] not in OPPOSITE:
            stats.add("prefs/skipped/no_emotion")
            continue
        if exchange is None:
            stats.add("prefs/skipped/no_supporter_reply")
            continue
        opposite = OPPOSITE[d["emotion"]]
        candidates = [(rid, text, lic) for rid, text, lic in pool.get(opposite, []) if rid != d["id"] and text != exchange[1]]
        if not candidates:
            stats.add("prefs/skipped/no_opposite_dialogue")
            continue
        _, rejected, rejected_license = candidates[_rank(d["id"]) % len(candidates)]
        stats.add("preference_pairs")
        yield _pair(d, exchange[0], exchange[1], rejected, opposite, "cross_dialogue", rejected_license or None)


def teacher_pairs(curated: Path, teacher: Teacher, stats: StageStats, *, max_tokens: int = 256, batch: int = 64) -> Iterator[dict[str, Any]]:
    from distill.teachers.base import SamplingParams, TeacherRequest

    def flush(pending: list[tuple[dict[str, Any], list[dict[str, str]], str]]) -> Iterator[dict[str, Any]]:
        requests = []
        for d, prompt, _ in pending:
            rid = make_id("pref-teacher", d["id"])
            system = {"role": "system", "content": TEACHER_REJECTED_V1.format(emotion=OPPOSITE[d["emotion"]])}
            sampling = SamplingParams(temperature=0.7, top_p=0.95, max_tokens=max_tokens, seed=int(rid[:8], 16))
            requests.append(TeacherRequest(rid, [system, *[m for m in prompt if m["role"] != "system"]], sampling))
        for (d, prompt, chosen), result in zip(pending, teacher.generate(requests), strict=True):
            if not result.ok or not (result.text or "").strip():
                stats.add("prefs/skipped/teacher_failed")
                continue
            stats.add("preference_pairs")
            yield _pair(d, prompt, chosen, result.text.strip(), OPPOSITE[d["emotion"]], "teacher")

    pending: list[tuple[dict[str, Any], list[dict[str, str]], str]] = []
    for d in iter_rows(curated, columns=COLUMNS):
        exchange = first_exchange(d)
        if d["emotion"] not in OPPOSITE or exchange is None:
            stats.add("prefs/skipped/no_emotion" if d["emotion"] not in OPPOSITE else "prefs/skipped/no_supporter_reply")
            continue
        pending.append((d, exchange[0], exchange[1]))
        if len(pending) >= batch:
            yield from flush(pending)
            pending = []
    if pending:
        yield from flush(pending)
