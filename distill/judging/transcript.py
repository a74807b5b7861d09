"""The conversation as a judge reads it: one `Seeker: ...` or `Supporter: ...` line per turn."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SPEAKERS = {"user": "Seeker", "assistant": "Supporter"}


def render_transcript(messages: Iterable[Mapping[str, Any]]) -> str:
    """System messages (and any other role) are left out: a judge rates what the seeker and the supporter said."""
    return "\n".join(
        f"{SPEAKERS[m['role']]}: {(m.get('content') or '').strip()}" for m in messages if m.get("role") in SPEAKERS
    )
