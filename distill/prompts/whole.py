"""Whole dialogues in one request (`generate.style: whole`): the shape of the new turns, its JSON schema, the prompt.

A strong teacher writes every new turn of a dialogue in one reply, so the dialogue's context is sent once instead of
once per turn. The reply is one JSON object whose shape makes the roles alternate by construction: an optional
`reply` (the supporter answers a dialogue that ends on the seeker: rewrite, or a seed that ends on a seeker turn), then
`exchanges`, each a seeker turn, the strategy the supporter uses and the supporter turn. So every dialogue opens with
the
seeker and ends on the supporter, and its length is fixed by the number of exchanges (minItems = maxItems). Turns are
bounded by maxLength, so a guided reply closes its JSON within the request's token budget instead of rambling on.
Rendering is pure; parsing is `distill.prompts.parse.parse_whole_dialogue`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from distill.prompts.render import Message, conversation, language_name, next_role, strategy_hint
from distill.prompts.templates import fill, load_template
from distill.records import STRATEGIES

JSON_TOKENS_PER_TURN = 16  # the keys, quotes and strategy name around one turn's text, in tokens (SmolLM2: ~12)


@dataclass(frozen=True)
class WholeShape:
    """The new turns one whole-dialogue request asks for."""

    opens_with_reply: bool  # the dialogue so far ends on the seeker: the first new turn is the supporter's
    exchanges: int  # (seeker turn, supporter turn) pairs after it
    max_chars: int  # per turn

    @property
    def new_turns(self) -> int:
        return int(self.opens_with_reply) + 2 * self.exchanges

    @property
    def supporter_turns(self) -> int:
        return int(self.opens_with_reply) + self.exchanges


def shape_for(history: Sequence[Message], target: int, max_chars: int) -> WholeShape:
    """The fewest new turns that reach `target` messages and end on the supporter, as turn-by-turn synthesis does."""
    turns = conversation(history)
    needed = max(target - len(turns), 1)
    if next_role(turns) == "assistant":
        return WholeShape(True, math.ceil((needed - 1) / 2), max_chars)
    return WholeShape(False, max(1, math.ceil(needed / 2)), max_chars)


def dialogue_schema(shape: WholeShape) -> dict[str, Any]:
    """The JSON schema of the reply (vLLM structured outputs, OpenAI strict `json_schema`)."""
    text = {"type": "string", "minLength": 2, "maxLength": shape.max_chars}
    strategy = {"type": "string", "enum": list(STRATEGIES)}
    exchange = {
        "type": "object",
        "properties": {"seeker": text, "strategy": strategy, "supporter": text},
        "required": ["seeker", "strategy", "supporter"],
        "additionalProperties": False,
    }
    properties: dict[str, Any] = {}
    if shape.opens_with_reply:
        properties["reply"] = {
            "type": "object",
            "properties": {"strategy": strategy, "supporter": text},
            "required": ["strategy", "supporter"],
            "additionalProperties": False,
        }
    properties["exchanges"] = {
        "type": "array",
        "items": exchange,
        "minItems": shape.exchanges,
        "maxItems": shape.exchanges,
    }
    return {
        "title": "dialogue_turns",
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def planned_strategies(plan: Sequence[str], shape: WholeShape) -> list[str]:
    """The strategy of each new supporter turn, cycling through the unit's plan as turn-by-turn synthesis does."""
    return [plan[k % len(plan)] for k in range(shape.supporter_turns)]


def format_example(shape: WholeShape, strategies: Sequence[str]) -> str:
    """The reply's form in words, with the planned strategies: what the prompt shows the teacher.

    In words, not as a JSON skeleton with placeholder text: on the embedded 135M model a skeleton's placeholders were
    copied into the turns ("<what the Seeker says>") in 14 of 16 dialogues, this form in 9 of 16.
    """
    queue = list(strategies)
    parts = []
    if shape.opens_with_reply:
        parts.append(f'"reply": the Supporter\'s first turn, {{"strategy": "{queue.pop(0)}", "supporter": "..."}}')
    parts.append(
        f'"exchanges": a list of exactly {len(queue)} objects, each {{"seeker": "...", "strategy": "...", "supporter": '
        '"..."}: '
        f"the Seeker's next turn, then the Supporter's strategy and turn, with the strategies {', '.join(queue)}"
    )
    return "One JSON object with " + "; and ".join(parts) + "."


def render_transcript(history: Sequence[Message]) -> str:
    names = {"user": "Seeker", "assistant": "Supporter"}
    return "\n".join(f"{names[m['role']]}: {' '.join(m['content'].split())}" for m in conversation(history))


def render_whole_dialogue(
    version: str,
    mode: str,
    shape: WholeShape,
    *,
    strategies: Sequence[str],
    situation: str | None,
    emotion: str | None,
    language: str | None,
    history: Sequence[Message],
    reference: str | None = None,
) -> list[Message]:
    """The messages of the one request that writes the new turns of a `mode` dialogue."""
    t = load_template(version, "whole")
    plan = "\n".join(f"{i}. {s.replace('_', ' ')}: {strategy_hint(version, s)}" for i, s in enumerate(strategies, 1))
    fields = dict(
        language=language_name(language),
        situation=" ".join((situation or "").split()),
        emotion_line=f"The Seeker feels {emotion}." if emotion else "",
        transcript=render_transcript(history),
        answer=(reference or "").strip(),
        plan=plan,
        format=format_example(shape, strategies),
    )
    return [
        {"role": "system", "content": fill(t["system"], "whole[system]", **fields)},
        {"role": "user", "content": fill(t[mode], f"whole[{mode}]", **fields)},
    ]
