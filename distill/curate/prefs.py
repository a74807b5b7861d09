"""EmPO preference pairs: chosen = the supporter's reply grounded in the seeker's emotion; rejected = a reply grounded
in the opposite emotion (distill.emotions.OPPOSITE), taken from another curated dialogue (`cross_dialogue`), written
by the teacher on request (`teacher`), or the first where another curated dialogue has the opposite emotion and the
second otherwise (`auto`, EmPO's own method when no such reply exists).

One pair per dialogue, on its first supporter reply; a dialogue without one is counted under `prefs/skipped/<reason>`,
so curated = preference_pairs + skipped. Memory is bounded: the cross-dialogue pool keeps a deterministic bottom-k
sample of replies per emotion, so the choice of rejected reply does not depend on shard order.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill.emotions import OPPOSITE
from distill.prompts.parse import ParseError, parse_turn, trim_to_sentence
from distill.records import make_id
from distill.seeds.licenses import combine
from distill.shards import iter_rows
from distill.stats import StageStats

if TYPE_CHECKING:
    from distill.config import RunConfig
    from distill.teachers.base import Teacher, TeacherRequest, TeacherResult

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
Pool = dict[str, list[tuple[str, str, str | None]]]  # emotion -> (dialogue id, first reply, licence)


def build_pool(curated: Path) -> Pool:
    """emotion -> up to POOL_PER_EMOTION (dialogue id, first reply, licence), the same sample whatever the shard
    order."""
    heaps: dict[str, list[tuple[int, str, str, str | None]]] = {}
    for d in iter_rows(curated, columns=COLUMNS):
        exchange = first_exchange(d)
        if d["emotion"] is None or exchange is None:
            continue
        heap = heaps.setdefault(d["emotion"], [])
        item = (
            -_rank(d["id"]),
            d["id"],
            exchange[1],
            d["license"] or "",
        )  # max-heap on rank keeps the k smallest ranks
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


Pending = list[tuple[dict[str, Any], list[dict[str, str]], str]]  # (dialogue, prompt, chosen) awaiting the teacher


def _usable(d: dict[str, Any], stats: StageStats) -> tuple[list[dict[str, str]], str] | None:
    """The dialogue's first exchange when a pair can be made of it; otherwise None, counted with the reason."""
    if d["emotion"] is None or d["emotion"] not in OPPOSITE:
        stats.add("prefs/skipped/no_emotion")
        return None
    exchange = first_exchange(d)
    if exchange is None:
        stats.add("prefs/skipped/no_supporter_reply")
    return exchange


def _counted(pair: dict[str, Any], stats: StageStats) -> dict[str, Any]:
    stats.add("preference_pairs")
    stats.add(f"prefs/method/{pair['method']}")
    return pair


def _cross_pair(d: dict[str, Any], exchange: tuple[list[dict[str, str]], str], pool: Pool) -> dict[str, Any] | None:
    """The pair whose rejected reply is another dialogue's, of the opposite emotion; None when the pool has none."""
    opposite = OPPOSITE[d["emotion"]]
    candidates = [
        (rid, text, lic) for rid, text, lic in pool.get(opposite, []) if rid != d["id"] and text != exchange[1]
    ]
    if not candidates:
        return None
    _, rejected, rejected_license = candidates[_rank(d["id"]) % len(candidates)]
    return _pair(d, exchange[0], exchange[1], rejected, opposite, "cross_dialogue", rejected_license or None)


def cross_dialogue_pairs(curated: Path, stats: StageStats) -> Iterator[dict[str, Any]]:
    pool = build_pool(curated)
    for d in iter_rows(curated, columns=COLUMNS):
        exchange = _usable(d, stats)
        if exchange is None:
            continue
        pair = _cross_pair(d, exchange, pool)
        if pair is None:
            stats.add("prefs/skipped/no_opposite_dialogue")
            continue
        yield _counted(pair, stats)


def _teacher_request(d: dict[str, Any], prompt: list[dict[str, str]], max_tokens: int) -> TeacherRequest:
    from distill.teachers.base import SamplingParams, TeacherRequest

    rid = make_id("pref-teacher", d["id"])
    system = {"role": "system", "content": TEACHER_REJECTED_V1.format(emotion=OPPOSITE[d["emotion"]])}
    sampling = SamplingParams(temperature=0.7, top_p=0.95, max_tokens=max_tokens, seed=int(rid[:8], 16))
    return TeacherRequest(rid, [system, *[m for m in prompt if m["role"] != "system"]], sampling)


def _rejected_text(result: TeacherResult) -> str:
    """The teacher's reply as one supporter turn, cleaned as generation cleans the chosen ones (role tags, a cut-off
    last sentence), so the pair differs in the emotion it answers and not in its artefacts; ParseError otherwise."""
    if not result.ok or not (result.text or "").strip():
        raise ParseError("failed", result.error or "empty reply")
    text = trim_to_sentence(result.text) if result.finish_reason == "length" else result.text
    return parse_turn(text, "assistant")


def _teacher_flush(pending: Pending, teacher: Teacher, stats: StageStats, max_tokens: int) -> Iterator[dict[str, Any]]:
    results = teacher.generate([_teacher_request(d, prompt, max_tokens) for d, prompt, _ in pending])
    for (d, prompt, chosen), result in zip(pending, results, strict=True):
        try:
            rejected = _rejected_text(result)
        except ParseError as exc:
            stats.add(f"prefs/skipped/teacher_{exc.code}")  # teacher_failed, teacher_truncated, teacher_empty_turn, ...
            continue
        yield _counted(_pair(d, prompt, chosen, rejected, OPPOSITE[d["emotion"]], "teacher"), stats)


def _teacher_or_cross_pairs(
    curated: Path, teacher: Teacher, stats: StageStats, pool: Pool | None, max_tokens: int, batch: int
) -> Iterator[dict[str, Any]]:
    """A cross-dialogue pair where `pool` has one, else one written by the teacher (every dialogue when `pool` is
    None)."""
    pending: Pending = []
    for d in iter_rows(curated, columns=COLUMNS):
        exchange = _usable(d, stats)
        if exchange is None:
            continue
        pair = _cross_pair(d, exchange, pool) if pool is not None else None
        if pair is not None:
            yield _counted(pair, stats)
            continue
        pending.append((d, exchange[0], exchange[1]))
        if len(pending) >= batch:
            yield from _teacher_flush(pending, teacher, stats, max_tokens)
            pending = []
    if pending:
        yield from _teacher_flush(pending, teacher, stats, max_tokens)


def teacher_pairs(
    curated: Path, teacher: Teacher, stats: StageStats, *, max_tokens: int = 256, batch: int = 64
) -> Iterator[dict[str, Any]]:
    return _teacher_or_cross_pairs(curated, teacher, stats, None, max_tokens, batch)


def auto_pairs(
    curated: Path, teacher: Teacher, stats: StageStats, *, max_tokens: int = 256, batch: int = 64
) -> Iterator[dict[str, Any]]:
    """Cross-dialogue pairs where the pool has the opposite emotion, the very ones `cross_dialogue` makes; the teacher
    writes the rejected reply of the others. The teacher is asked only for those, so a run that needs none never
    starts it (`PairTeacher` starts on first use)."""
    return _teacher_or_cross_pairs(curated, teacher, stats, build_pool(curated), max_tokens, batch)


class PairTeacher:
    """The run's teacher for rejected replies, through the generation pool (Ray actors where `teacher.placement` puts
    them, so a GPU teacher gets its GPU), started on the first request and never otherwise."""

    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        self.pool: Any = None

    def generate(self, requests: list[TeacherRequest]) -> list[TeacherResult]:
        if self.pool is None:
            from distill.generate.pool import make_pool

            log.info("preference pairs: starting the teacher for %d rejected replies", len(requests))
            self.pool = make_pool(self.cfg.teacher, self.cfg.generate)
        return self.pool.submit_requests(requests).result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
