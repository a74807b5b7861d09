"""One unit as one request (`generate.style: whole`): the teacher writes every new turn of the dialogue at once.

Same interface as the turn-by-turn `Episode` (the drivers in `distill.generate.synthesize` cannot tell them apart),
same unit ids, plans and seeds: the request's seed is the one the first turn would have had. The reply must match the
dialogue's JSON schema (`distill.prompts.whole`), which the request carries for backends with structured output; it is
parsed and checked in full either way, and any failure ends the unit as a reject: `teacher_error`, `truncated` (the
token budget ran out before the JSON closed) or `unparseable_output` (the detail names the rule it broke).
"""

from __future__ import annotations

from dataclasses import dataclass

from distill.generate.episode import Episode
from distill.generate.plan import derive_seed
from distill.prompts.parse import ParseError, parse_whole_dialogue
from distill.prompts.render import conversation
from distill.prompts.whole import (
    JSON_TOKENS_PER_TURN,
    WholeShape,
    dialogue_schema,
    planned_strategies,
    render_whole_dialogue,
    shape_for,
)
from distill.teachers.base import SamplingParams, TeacherRequest, TeacherResult


def whole_max_tokens(shape: WholeShape, tokens_per_turn: int) -> int:
    return shape.new_turns * tokens_per_turn + JSON_TOKENS_PER_TURN  # + the object's own braces and keys


@dataclass
class WholeEpisode(Episode):
    def __post_init__(self) -> None:
        super().__post_init__()  # the same starting turns and target length as turn by turn
        self.shape = shape_for(self.turns, self.target, self.cfg.whole_max_chars_per_turn)
        self.strategies = planned_strategies(self.unit.strategies, self.shape)

    @property
    def tokens_per_turn(self) -> int:
        return self.cfg.whole_tokens_per_turn or self.cfg.sampling.max_tokens + JSON_TOKENS_PER_TURN

    def next_request(self) -> TeacherRequest | None:
        if self.done:
            return None
        u, s = self.unit, self.cfg.sampling
        reference = conversation(u.messages)[1]["content"] if u.mode == "rewrite" else None
        messages = render_whole_dialogue(
            u.prompt_version,
            u.mode,
            self.shape,
            strategies=self.strategies,
            situation=u.situation,
            emotion=u.emotion,
            language=u.language,
            history=self.turns,
            reference=reference,
        )
        sampling = SamplingParams(
            s.temperature, s.top_p, whole_max_tokens(self.shape, self.tokens_per_turn), derive_seed(u.id, 0)
        )
        return TeacherRequest(
            id=f"{u.id}/whole", messages=messages, sampling=sampling, response_schema=dialogue_schema(self.shape)
        )

    def feed(self, result: TeacherResult) -> None:
        self.count_usage(result)
        if result.error is not None or result.text is None:
            return self._fail("teacher_error", result.error or "the teacher returned no text", result)
        try:
            new_turns, _named = parse_whole_dialogue(result.text, self.shape)
        except ParseError as exc:
            if result.finish_reason == "length":
                budget = whole_max_tokens(self.shape, self.tokens_per_turn)
                return self._fail("truncated", f"whole dialogue hit max_tokens={budget} ({exc})", result)
            return self._fail("unparseable_output", f"whole dialogue: {exc}", result)
        self.turns.extend(new_turns)
        self.supporter_turns += self.shape.supporter_turns
        self.round += 1
        self.done = True
