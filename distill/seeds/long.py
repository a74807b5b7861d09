"""Seeds longer than `seeds.max_turns`: cut into overlapping windows, or truncated, instead of thrown away.

Long real conversations are the richest seeds. A window is a seed of its own: a deterministic id from the whole
seed's id and the window's index, the system message (if any) repeated at its start, and in its metadata the turns it
covers and the source row it came from. Windows start on the role the conversation starts with, so a seeker-first
dialogue gives seeker-first windows, and the last window ends on the last turn: no turn is left out.
"""

from __future__ import annotations

import json
from typing import Any

from distill.records import make_id


def _split_system(messages: list[dict[str, str]]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    head = messages[:1] if messages and messages[0]["role"] == "system" else []
    return head, messages[len(head) :]


def window_starts(n: int, size: int, overlap: int) -> list[int]:
    """Start indices of windows of at most `size` turns over `n` alternating turns, `overlap` turns shared between
    neighbours. Steps are even (same starting role); the last window is moved to end on the last turn."""
    if n <= size:
        return [0]
    step = max(1, size - overlap)
    if step % 2 and step > 1:
        step -= 1
    starts = list(range(0, n - size, step))
    last = n - size
    if last % 2 and size > 1:  # keep the starting role: one turn shorter rather than one turn over max_turns
        last += 1
    if last > starts[-1]:
        starts.append(last)
    return starts


def cut_long(
    seed: dict[str, Any], policy: str, max_turns: int, overlap: int, origin: str | None, row: int | None
) -> list[dict[str, Any]]:
    """The seed itself when it fits; else its windows (`window`) or its first `max_turns` turns (`truncate`)."""
    head, turns = _split_system(seed["messages"])
    if len(turns) <= max_turns or policy == "reject":
        return [seed]
    metadata = json.loads(seed["metadata"] or "{}")
    if policy == "truncate":
        repairs = {**metadata.get("repairs", {}), "turns_truncated": len(turns) - max_turns}
        return [{**seed, "messages": head + turns[:max_turns], "metadata": _dump({**metadata, "repairs": repairs})}]
    starts = window_starts(len(turns), max_turns, overlap)
    windows = []
    for index, start in enumerate(starts):
        end = min(len(turns), start + max_turns)
        window = {
            "index": index,
            "count": len(starts),
            "turns": [start, end],  # half-open, over the whole seed's non-system turns
            "of_turns": len(turns),
            "whole_seed_id": seed["id"],
            "source_file": origin,
            "source_row": row,
        }
        windows.append(
            {
                **seed,
                "id": make_id("seed-window", seed["id"], index),
                "messages": head + turns[start:end],
                "metadata": _dump({**metadata, "window": window}),
            }
        )
    return windows


def _dump(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, ensure_ascii=False, sort_keys=True, default=str)
