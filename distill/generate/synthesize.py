"""One unit batch through a teacher: render each unit's next turn, generate, parse, until every dialogue is complete.

Plain Python on purpose: the Ray actor calls these, and so can a unit test. Every unit ends as exactly one dialogue
row or one reject row. Two drivers of the same `Episode`s:
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
from distill.generate.plan import STAGE, WorkUnit, derive_seed
from distill.prompts.parse import ParseError, parse_turn, trim_to_sentence
from distill.prompts.render import conversation, next_role, render_seeker_turn, render_supporter_turn
from distill.records import make_reject
from distill.teachers.base import AsyncTeacher, SamplingParams, Teacher, TeacherRequest, TeacherResult, check_results

_RAW_KEPT_CHARS = 2000  # of a failed completion, kept in its reject for inspection


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


@dataclass
class Episode:
    """One unit on its way to a dialogue: the turns so far, usage, and how it ended.

    Every mode alternates seeker and supporter turns; they differ in where the dialogue starts and when it is long
    enough (see `distill.prompts.render`). A dialogue always ends on a supporter turn.
    """

    unit: WorkUnit
    cfg: GenerateSection
    turns: list[dict[str, str]] = field(default_factory=list)
    round: int = 0
    supporter_turns: int = 0
    trimmed_turns: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    reject: dict[str, Any] | None = None
    done: bool = False

    def __post_init__(self) -> None:
        seed_turns = conversation(self.unit.messages)
        if self.unit.mode == "continue":
            self.turns = seed_turns
            self.target = len(seed_turns) + self.cfg.continue_turns
        elif self.unit.mode == "rewrite":
            self.turns = seed_turns[:1]  # the seeker's own post opens the dialogue
            self.target = self.cfg.rewrite_turns
        else:
            self.target = self.cfg.selfchat_turns

    # -- requests ------------------------------------------------------------------------------
    def next_request(self) -> TeacherRequest | None:
        if self.done:
            return None
        s = self.cfg.sampling
        sampling = SamplingParams(s.temperature, s.top_p, s.max_tokens, derive_seed(self.unit.id, self.round))
        return TeacherRequest(id=f"{self.unit.id}/{self.round}", messages=self._prompt(), sampling=sampling)

    def _prompt(self) -> list[dict[str, str]]:
        u, version = self.unit, self.unit.prompt_version
        if next_role(self.turns) == "user":
            return render_seeker_turn(version, situation=u.situation or "", emotion=u.emotion, language=u.language, history=self.turns)
        strategy = u.strategies[self.supporter_turns % len(u.strategies)]
        reference = conversation(u.messages)[1]["content"] if u.mode == "rewrite" else None
        return render_supporter_turn(version, strategy=strategy, language=u.language, history=self.turns, reference=reference)

    # -- results -------------------------------------------------------------------------------
    def feed(self, result: TeacherResult) -> None:
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens
        self.finish_reason = result.finish_reason
        role = next_role(self.turns)
        if result.error is not None or result.text is None:
            return self._fail("teacher_error", result.error or "the teacher returned no text", result)
        text = result.text
        if result.finish_reason == "length":
            if self.cfg.truncated_turns == "reject":
                return self._fail("truncated", f"turn {len(self.turns) + 1} hit max_tokens={self.cfg.sampling.max_tokens}", result)
            try:
                text = trim_to_sentence(text)
            except ParseError as exc:
                return self._fail("truncated", f"turn {len(self.turns) + 1}: {exc.detail}", result)
            self.trimmed_turns += 1
        try:
            content = parse_turn(text, role)
        except ParseError as exc:
            return self._fail("unparseable_output", f"turn {len(self.turns) + 1}: {exc}", result)
        self.turns.append({"role": role, "content": content})
        self.supporter_turns += role == "assistant"
        self.round += 1
        self.done = len(self.turns) >= self.target and role == "assistant"

    def _fail(self, reason: str, detail: str, result: TeacherResult) -> None:
        u = self.unit
        record = {
            "id": u.id,
            "seed_id": u.seed_id,
            "mode": u.mode,
            "variant": u.variant,
            "strategies": list(u.strategies),
            "messages": self.turns,
            "raw": (result.text or "")[:_RAW_KEPT_CHARS],
            "finish_reason": result.finish_reason,
        }
        self.reject = make_reject(STAGE, reason, detail, record=record)
        self.done = True


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
        "sampling": {"temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens, "seed": u.sampling_seed},
        "usage": {"prompt_tokens": ep.prompt_tokens, "completion_tokens": ep.completion_tokens},
        # "trimmed": some turn hit max_tokens and was cut back to its last full sentence (truncated_turns=trim)
        "finish_reason": "trimmed" if ep.trimmed_turns else ep.finish_reason,
        "scores": [],
        "created_at": now,
        "source": u.source,
        "license": u.license,
    }


def synthesize(teacher: Teacher, units: Sequence[WorkUnit], cfg: GenerateSection, info: TeacherInfo) -> BatchOutcome:
    episodes = [Episode(u, cfg) for u in units]
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
    teacher: AsyncTeacher, units: Sequence[WorkUnit], cfg: GenerateSection, info: TeacherInfo, *, batch: int = 0, share: EngineShare | None = None
) -> BatchOutcome:
    """Run on the teacher's loop (`teacher.submit(synthesize_async(...))`); `share` is the actor's, shared by its batches."""
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
                raise RuntimeError(f"{teacher.backend} teacher returned result {result.id!r} where request {req.id!r} was expected")
            out.counters["requests"] += 1
            out.counters["requests/overlapping_other_batch"] += int(overlapped or share.others_busy(batch))
            ep.feed(result)

    episodes = [Episode(u, cfg) for u in units]
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
