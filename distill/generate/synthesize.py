"""One unit batch through a teacher: render each unit's next turn, generate, parse, until every dialogue is complete.

Plain Python on purpose: the Ray actor calls these, and so can a unit test. Every unit ends as exactly one dialogue
row or one reject row. A unit's episode is turn by turn (`Episode`) or one request for the whole dialogue
(`WholeEpisode`), as `generate.style` says for its mode. Two drivers of the same episodes:
- `synthesize`: the next turns of all live units go to the teacher together, round by round (any backend).
- `synthesize_async`: each unit is its own coroutine awaiting one turn at a time (`AsyncTeacher`), so a dialogue whose
  turn is back queues its next one at once instead of waiting for the round's longest turn, and batches that share
  the engine interleave. Same requests (same seeds), so the same units end the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from distill.config import GenerateSection
from distill.generate.episode import Episode
from distill.generate.plan import WorkUnit
from distill.generate.whole import WholeEpisode
from distill.teachers.base import AsyncTeacher, Teacher, check_results

__all__ = [
    "BatchOutcome",
    "EngineShare",
    "Episode",
    "TeacherInfo",
    "WholeEpisode",
    "new_episode",
    "synthesize",
    "synthesize_async",
]


@dataclass(frozen=True)
class TeacherInfo:
    model: str
    revision: str | None
    backend: str


@dataclass
class BatchOutcome:
    dialogues: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)


def new_episode(unit: WorkUnit, cfg: GenerateSection) -> Episode:
    return WholeEpisode(unit, cfg) if cfg.style_of(unit.mode) == "whole" else Episode(unit, cfg)


def dialogue_row(ep: Episode, teacher: TeacherInfo, now: datetime) -> dict[str, Any]:
    u, s = ep.unit, ep.cfg.sampling
    return {
        "id": u.id,
        "seed_id": u.seed_id,
        "mode": u.mode,
        "variant": u.variant,
        "prompt_version": u.prompt_version,
        "language": u.language,
        "emotion": u.emotion,
        "strategies": list(u.strategies),
        "messages": ep.turns,
        "teacher": {"model": teacher.model, "revision": teacher.revision, "backend": teacher.backend},
        "sampling": {
            "temperature": s.temperature,
            "top_p": s.top_p,
            "max_tokens": s.max_tokens,
            "seed": u.sampling_seed,
        },
        "usage": {"prompt_tokens": ep.prompt_tokens, "completion_tokens": ep.completion_tokens},
        # "trimmed": some turn hit max_tokens and was cut back to its last full sentence (truncated_turns=trim)
        "finish_reason": "trimmed" if ep.trimmed_turns else ep.finish_reason,
        "scores": [],
        "created_at": now,
        "source": u.source,
        "license": u.license,
    }


def synthesize(teacher: Teacher, units: Sequence[WorkUnit], cfg: GenerateSection, info: TeacherInfo) -> BatchOutcome:
    episodes = [new_episode(u, cfg) for u in units]
    out = BatchOutcome()
    started = time.perf_counter()
    while True:
        live = [(ep, req) for ep in episodes if (req := ep.next_request()) is not None]
        if not live:
            break
        requests = [req for _, req in live]
        t0 = time.perf_counter()
        results = check_results(requests, teacher.generate(requests), teacher.backend)
        out.counters["teacher_seconds"] += time.perf_counter() - t0
        out.counters["requests"] += len(requests)
        for (ep, _), result in zip(live, results):
            ep.feed(result)
    collect(episodes, info, out)
    out.counters["batch_seconds"] += time.perf_counter() - started
    return out


class EngineShare:
    """Requests in the engine per unit batch, on one actor: lets a batch count how many of its requests were served
    while another batch also had requests in the engine (evidence that batches really interleave)."""

    def __init__(self) -> None:
        self.in_engine: Counter[int] = Counter()

    def others_busy(self, batch: int) -> bool:
        return any(n > 0 for b, n in self.in_engine.items() if b != batch)


async def synthesize_async(
    teacher: AsyncTeacher,
    units: Sequence[WorkUnit],
    cfg: GenerateSection,
    info: TeacherInfo,
    *,
    batch: int = 0,
    share: EngineShare | None = None,
) -> BatchOutcome:
    """Run on the teacher's loop (`teacher.submit(synthesize_async(...))`); `share` is the actor's, shared by its
    batches."""
    share = share or EngineShare()
    out = BatchOutcome()
    started = time.perf_counter()

    async def run(ep: Episode) -> None:
        while (req := ep.next_request()) is not None:
            overlapped = share.others_busy(batch)
            share.in_engine[batch] += 1
            try:
                result = await teacher.generate_one(req)
            finally:
                share.in_engine[batch] -= 1
            if result.id != req.id:  # a backend bug, as in check_results
                raise RuntimeError(
                    f"{teacher.backend} teacher returned result {result.id!r} where request {req.id!r} was expected"
                )
            out.counters["requests"] += 1
            out.counters["requests/overlapping_other_batch"] += int(overlapped or share.others_busy(batch))
            ep.feed(result)

    episodes = [new_episode(u, cfg) for u in units]
    await asyncio.gather(*(run(ep) for ep in episodes))
    collect(episodes, info, out)
    out.counters["batch_seconds"] += time.perf_counter() - started
    return out


def collect(episodes: Sequence[Episode], info: TeacherInfo, out: BatchOutcome) -> None:
    """Every finished episode into `out`: a dialogue row or its reject, with the batch's counters."""
    now = datetime.now(timezone.utc)
    c = out.counters
    for ep in episodes:
        c["units"] += 1
        c["tokens/prompt"] += ep.prompt_tokens
        c["tokens/completion"] += ep.completion_tokens
        c["tokens/prompt_cached"] += ep.cached_prompt_tokens
        if ep.reject is not None:
            out.rejects.append(ep.reject)
            c["rejected"] += 1
            c[f"rejected/{ep.reject['reason']}"] += 1
        else:
            out.dialogues.append(dialogue_row(ep, info, now))
            c["dialogues"] += 1
            c[f"dialogues/{ep.unit.mode}"] += 1
            c["samples"] += sum(1 for m in ep.turns if m["role"] == "assistant")
            c["turns_trimmed"] += ep.trimmed_turns
