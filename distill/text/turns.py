"""A typed, read-only view of a dialogue record: its turns without the system prompt, by role, and its annotations.

Records stay plain dicts on disk and between stages; `Dialogue.of(record)` reads one once, tolerating the fields a
record may lack (a seed has no scores, Arrow hands scores back as rows), so callers need no `get(...) or []` chains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from distill.records import scores_dict

Message = dict[str, str]


def content(message: dict[str, Any]) -> str:
    """A message's text; a missing or null content reads as empty."""
    return message.get("content") or ""


@dataclass(frozen=True, slots=True)
class Dialogue:
    record: dict[str, Any]
    messages: list[Message]  # as stored, a leading system prompt included
    turns: list[Message]  # the conversation the seeker and supporter had: every message but system ones

    @classmethod
    def of(cls, record: dict[str, Any]) -> Dialogue:
        messages = record.get("messages") or []
        return cls(record, messages, [m for m in messages if m.get("role") != "system"])

    @property
    def supporter_turns(self) -> list[str]:
        return [content(m) for m in self.turns if m.get("role") == "assistant"]

    @property
    def seeker_turns(self) -> list[str]:
        return [content(m) for m in self.turns if m.get("role") == "user"]

    @property
    def response_pairs(self) -> list[tuple[str, str]]:
        """(seeker turn, supporter reply) for every supporter turn that follows a seeker turn."""
        convo = self.turns
        return [
            (content(convo[i - 1]), content(m))
            for i, m in enumerate(convo)
            if m.get("role") == "assistant" and i > 0 and convo[i - 1].get("role") == "user"
        ]

    @property
    def emotion(self) -> str | None:
        return self.record.get("emotion") or None

    @property
    def language(self) -> str:
        """The seed's language code, lower-cased; empty when the record has none."""
        return (self.record.get("language") or "").lower()

    @property
    def strategies(self) -> list[str]:
        """The strategies the teacher was asked to use."""
        return list(self.record.get("strategies") or [])

    @property
    def scores(self) -> dict[str, float]:
        """A copy of the record's scores as a dict, whatever form they are stored in."""
        return scores_dict(self.record.get("scores"))
