"""Generic chat records (JSONL or Parquet): OpenAI `messages` or ShareGPT `conversations`.

Optional fields: id, emotion (one of the 32 ED labels), situation, language; any other fields are kept in
metadata. ShareGPT speakers map human/user -> user, gpt/assistant -> assistant, system -> system.
"""

from __future__ import annotations

from typing import Any

from distill.seeds.rows import ROLE_MAP_HINT, Limits, RowError, check_emotion, check_messages, optional_str, seed_row

SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "system": "system",
}
_KNOWN = {"id", "messages", "conversations", "emotion", "situation", "language"}


def _from_sharegpt(conversations: Any, limits: Limits) -> list[dict[str, Any]]:
    if not isinstance(conversations, list):
        raise RowError(
            "wrong_type", f"field 'conversations' should be a list, got {type(conversations).__name__}", "conversations"
        )
    messages = []
    for i, turn in enumerate(conversations):
        where = f"conversations[{i}]"
        if not isinstance(turn, dict):
            raise RowError("wrong_type", f"{where} should be an object with from and value", where)
        speaker, value = turn.get("from"), turn.get("value")
        if speaker is None:
            raise RowError("missing_field", f"required field '{where}.from' is missing", f"{where}.from")
        if value is None:
            raise RowError("missing_field", f"required field '{where}.value' is missing", f"{where}.value")
        mapped = limits.role(str(speaker))  # the source's own role map first, then the usual ShareGPT names
        role = mapped if mapped in ("user", "assistant", "system") else SHAREGPT_ROLES.get(str(speaker).lower())
        if role is None:
            raise RowError(
                "unknown_role",
                f"{where}.from is {speaker!r}; expected human, gpt or system {ROLE_MAP_HINT}",
                f"{where}.from",
            )
        messages.append({"role": role, "content": value})
    return messages


def chat_to_seed(item: dict[str, Any], key: str, source: str, language: str | None, limits: Limits) -> dict[str, Any]:
    if item.get("messages") is not None:
        messages, repairs = check_messages(
            list(item["messages"]) if _is_sequence(item["messages"]) else item["messages"], limits
        )
    elif item.get("conversations") is not None:
        conversations = list(item["conversations"]) if _is_sequence(item["conversations"]) else item["conversations"]
        messages, repairs = check_messages(_from_sharegpt(conversations, limits), limits, "conversations")
    else:
        raise RowError(
            "missing_field", "required field 'messages' (or ShareGPT 'conversations') is missing", "messages"
        )
    record_id = item.get("id")
    if record_id is not None and not isinstance(record_id, (str, int)):
        raise RowError("wrong_type", f"field 'id' should be a string or integer, got {type(record_id).__name__}", "id")
    extras = {k: v for k, v in item.items() if k not in _KNOWN}
    return seed_row(
        source=source,
        key=str(record_id) if record_id is not None else key,
        messages=messages,
        language=language or optional_str(item, "language") or _detected_language(messages),
        emotion=check_emotion(item.get("emotion")),
        situation=optional_str(item, "situation"),
        metadata={"source_id": record_id, **extras} if record_id is not None else extras,
        repairs=repairs,
    )


MIN_CHARS_TO_DETECT = 80  # langid on a line or two is a guess; such a seed is left untagged (no language check)


def _detected_language(messages: list[dict[str, str]]) -> str | None:
    """A chat record without a language tag gets the one its text is in, so curation can follow it."""
    from distill.filters.heuristics import detect_language, language_sample

    text = " ".join(m["content"] for m in messages)
    return detect_language(language_sample(text)) if len(text) >= MIN_CHARS_TO_DETECT else None


def _is_sequence(value: Any) -> bool:
    # Parquet list columns arrive as numpy arrays through some readers; treat them as lists.
    return hasattr(value, "__len__") and not isinstance(value, (str, bytes, dict))
