"""ESConv (Liu et al., 2021): emotional-support conversations annotated with supporter strategies.

Item fields: emotion_type, problem_type, situation, dialog[{speaker: seeker|supporter, content,
annotation.strategy}]. ESConv often splits one reply over consecutive utterances of the same speaker;
those are joined so roles alternate, and the strategies of each supporter turn are kept in metadata.
The HF copy stores each item as a JSON string in a `text` column; both shapes are accepted.
"""

from __future__ import annotations

import json
from typing import Any

from distill.seeds.rows import (
    ROLE_MAP_HINT,
    Limits,
    RowError,
    check_emotion,
    check_messages,
    merge_consecutive,
    optional_str,
    require,
    seed_row,
)

SPEAKERS = {"seeker": "user", "usr": "user", "supporter": "assistant", "sys": "assistant"}


def esconv_to_seed(item: dict[str, Any], key: str, source: str, language: str | None, limits: Limits) -> dict[str, Any]:
    if isinstance(item.get("text"), str) and "dialog" not in item:
        try:
            item = json.loads(item["text"])
        except json.JSONDecodeError as exc:
            raise RowError("invalid_json", f"field 'text' is not a JSON ESConv item: {exc.msg}", "text") from None
        if not isinstance(item, dict):
            raise RowError("wrong_type", "field 'text' should hold a JSON object", "text")
    dialog = require(item, "dialog", list)
    turns: list[dict[str, str]] = []
    strategies: list[list[str]] = []
    dropped = 0
    for i, utt in enumerate(dialog):
        where = f"dialog[{i}]"
        if not isinstance(utt, dict):
            raise RowError("wrong_type", f"{where} should be an object, got {type(utt).__name__}", where)
        speaker = require(utt, "speaker", where=where)
        content = require(utt, "content", where=where)
        mapped = limits.role(speaker)  # the source's role map first (FailedESConv.json says speaker/listener)
        role = mapped if mapped in ("user", "assistant") else SPEAKERS.get(speaker.strip().lower())
        if role is None:
            raise RowError(
                "unknown_role",
                f"{where}.speaker is {speaker!r}; expected seeker or supporter {ROLE_MAP_HINT}",
                f"{where}.speaker",
            )
        if not content.strip():
            if limits.empty_turns == "drop":
                dropped += 1  # the same-speaker neighbours it separated are joined below, as ESConv's split replies are
                continue
            raise RowError(
                "empty_turn",
                f"{where}.content is empty (empty_turns: drop on the source removes it)",
                f"{where}.content",
            )
        strategy = (utt.get("annotation") or {}).get("strategy") if isinstance(utt.get("annotation"), dict) else None
        if role == "assistant":
            if turns and turns[-1]["role"] == "assistant":
                if strategy:
                    strategies[-1].append(strategy)
            else:
                strategies.append([strategy] if strategy else [])
        turns.append({"role": role, "content": content.strip()})
    merged, joins = merge_consecutive(turns)
    messages, repairs = check_messages(merged, limits, field="dialog")
    if dropped:
        repairs = {**repairs, "empty_turns_dropped": dropped}
    source_emotion = optional_str(item, "emotion_type")
    emotion = check_emotion(source_emotion, field="emotion_type")
    return seed_row(
        source=source,
        key=key,
        messages=messages,
        language=language or "en",
        emotion=emotion,
        situation=optional_str(item, "situation"),
        metadata={
            "source_emotion": source_emotion,
            "problem_type": optional_str(item, "problem_type"),
            "experience_type": optional_str(item, "experience_type"),
            "strategies": strategies,
            "merged_utterances": joins,
        },
        repairs=repairs,
    )
