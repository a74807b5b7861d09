"""SoulChat multi-turn corpora written as transcripts: `用户：...` (seeker) and `心理咨询师：...` (counsellor) turns.

Accepted items: `{"input": transcript[, "target": last counsellor reply][, "topic"]}` (SoulChat SFT style,
where the transcript ends with an open `心理咨询师：` that `target` fills) or `{"dialogue"|"text": transcript}`.
Items that carry OpenAI `messages` instead are handled by the chat loader.
"""

from __future__ import annotations

import re
from typing import Any

from distill.seeds.rows import Limits, RowError, check_emotion, check_messages, optional_str, seed_row

SPEAKER_ROLES = {"用户": "user", "来访者": "user", "求助者": "user", "心理咨询师": "assistant", "咨询师": "assistant"}
_TURN = re.compile(r"^\s*(用户|来访者|求助者|心理咨询师|咨询师)\s*[:：]\s?", re.MULTILINE)


def parse_transcript(text: str) -> list[dict[str, str]]:
    """Split a 用户/心理咨询师 transcript into turns; text before the first speaker tag is an error."""
    marks = list(_TURN.finditer(text))
    if not marks:
        raise RowError("unknown_role", "no 用户：/心理咨询师： speaker tags found in the transcript", "input")
    if text[: marks[0].start()].strip():
        raise RowError("unknown_role", "text before the first speaker tag", "input")
    turns = []
    for mark, nxt in zip(marks, [*marks[1:], None], strict=True):
        content = text[mark.end() : nxt.start() if nxt else len(text)].strip()
        turns.append({"role": SPEAKER_ROLES[mark.group(1)], "content": content})
    return turns


def soulchat_to_seed(
    item: dict[str, Any], key: str, source: str, language: str | None, limits: Limits
) -> dict[str, Any]:
    field = next((f for f in ("input", "dialogue", "text") if isinstance(item.get(f), str)), None)
    if field is None:
        raise RowError("missing_field", "required field 'input' (a 用户/心理咨询师 transcript) is missing", "input")
    turns = parse_transcript(item[field])
    target = optional_str(item, "target")
    if turns and turns[-1]["role"] == "assistant" and not turns[-1]["content"]:
        turns.pop()  # the open counsellor slot that `target` answers
    if target:
        turns.append({"role": "assistant", "content": target})
    messages, repairs = check_messages(turns, limits, field=field)
    return seed_row(
        source=source,
        key=str(item.get("id") or key),
        messages=messages,
        language=language or "zh",
        emotion=check_emotion(item.get("emotion")),
        situation=optional_str(item, "topic"),
        metadata={"topic": optional_str(item, "topic")},
        repairs=repairs,
    )
