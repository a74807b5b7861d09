"""One unit on its way to a dialogue, turn by turn (`generate.style: turns`): the turns so far, usage, how it ended.

`next_request` renders the next turn's prompt, `feed` parses the teacher's reply into it or ends the unit as a reject
with a reason. The drivers in `distill.generate.synthesize` send the requests; `distill.generate.whole.WholeEpisode`
is the one-request-per-dialogue variant of the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from distill.config import GenerateSection
from distill.generate.plan import WorkUnit, derive_seed
from distill.prompts.parse import ParseError, parse_turn, trim_to_sentence
from distill.prompts.render import conversation, next_role, render_seeker_turn, render_supporter_turn
from distill.records import make_reject
from distill.stages import GENERATE
from distill.teachers.base import SamplingParams, TeacherRequest, TeacherResult

RAW_KEPT_CHARS = 2000  # of a failed completion, kept in its reject for inspection


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
    cached_prompt_tokens: int = 0  # of prompt_tokens, served from the engine's prefix cache
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
            return render_seeker_turn(
                version, situation=u.situation or "", emotion=u.emotion, language=u.language, history=self.turns
            )
        strategy = u.strategies[self.supporter_turns % len(u.strategies)]
        reference = conversation(u.messages)[1]["content"] if u.mode == "rewrite" else None
        return render_supporter_turn(
            version, strategy=strategy, language=u.language, history=self.turns, reference=reference
        )

    # -- results -------------------------------------------------------------------------------
    def feed(self, result: TeacherResult) -> None:
        self.count_usage(result)
        role = next_role(self.turns)
        if result.error is not None or result.text is None:
            return self._fail("teacher_error", result.error or "the teacher returned no text", result)
        text = result.text
        if result.finish_reason == "length":
            if self.cfg.truncated_turns == "reject":
                return self._fail(
                    "truncated", f"turn {len(self.turns) + 1} hit max_tokens={self.cfg.sampling.max_tokens}", result
                )
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

    def count_usage(self, result: TeacherResult) -> None:
        self.prompt_tokens += result.prompt_tokens
        self.cached_prompt_tokens += result.cached_prompt_tokens
        self.completion_tokens += result.completion_tokens
        self.finish_reason = result.finish_reason

    def _fail(self, reason: str, detail: str, result: TeacherResult) -> None:
        u = self.unit
        record = {
            "id": u.id,
            "seed_id": u.seed_id,
            "mode": u.mode,
            "variant": u.variant,
            "strategies": list(u.strategies),
            "messages": self.turns,
            "raw": (result.text or "")[:RAW_KEPT_CHARS],
            "finish_reason": result.finish_reason,
        }
        self.reject = make_reject(GENERATE.name, reason, detail, record=record)
        self.done = True
