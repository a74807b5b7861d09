"""Pure prompt rendering: a dialogue so far + who speaks next -> OpenAI-style messages for the teacher.

Dialogues are generated turn by turn in every mode: the teacher alternately plays the seeker (persona from the seed's
situation and emotion) and the supporter (one strategy of the plan per turn). Modes differ only in how a dialogue
starts:
`selfchat` from nothing, `continue` from the seed dialogue, `rewrite` from the seed post, with the seed's long answer as
the supporter's reference. A chat reply per turn is what even a 135M-parameter teacher produces reliably; a whole
transcript in one reply is not.
"""

from __future__ import annotations

from collections.abc import Sequence

from distill.prompts.templates import fill, load_template

Message = dict[str, str]
LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "es": "Spanish", "fr": "French", "de": "German", "ja": "Japanese"}


def language_name(code: str | None) -> str:
    return LANGUAGE_NAMES.get((code or "en").lower(), code or "English")


def emotion_line(emotion: str | None) -> str:
    return f"You feel {emotion}." if emotion else ""


def conversation(messages: Sequence[Message]) -> list[Message]:
    """The seeker/supporter turns of a dialogue (a leading system message is not part of the conversation)."""
    return [{"role": m["role"], "content": m["content"]} for m in messages if m["role"] in ("user", "assistant")]


def next_role(history: Sequence[Message]) -> str:
    turns = conversation(history)
    return "assistant" if turns and turns[-1]["role"] == "user" else "user"


def strategy_hint(version: str, strategy: str) -> str:
    hints = load_template(version, "strategies")
    if strategy not in hints:
        raise ValueError(f"no hint for strategy {strategy!r} in prompts {version}/strategies.txt")
    return hints[strategy].template


def render_seeker_turn(
    version: str, *, situation: str, emotion: str | None, language: str | None, history: Sequence[Message]
) -> list[Message]:
    """The teacher plays the seeker: its own past turns become `assistant`, the supporter's arrive as `user`."""
    t = load_template(version, "seeker")
    fields = dict(
        situation=" ".join(situation.split()), emotion_line=emotion_line(emotion), language=language_name(language)
    )
    flipped = [
        {"role": "assistant" if m["role"] == "user" else "user", "content": m["content"]} for m in conversation(history)
    ]
    return [
        {"role": "system", "content": fill(t["system"], "seeker[system]", **fields)},
        {"role": "user", "content": fill(t["opening"], "seeker[opening]", **fields)},
        *flipped,
    ]


def render_supporter_turn(
    version: str, *, strategy: str, language: str | None, history: Sequence[Message], reference: str | None = None
) -> list[Message]:
    t = load_template(version, "supporter")
    fields = dict(
        strategy=strategy.replace("_", " "),
        strategy_hint=strategy_hint(version, strategy),
        language=language_name(language),
        answer=(reference or "").strip(),
    )
    system = fill(t["system"], "supporter[system]", **fields)
    if reference:
        system += "\n\n" + fill(t["reference"], "supporter[reference]", **fields)
    return [{"role": "system", "content": system}, *conversation(history)]
