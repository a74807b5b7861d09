"""Sample windows: one `context -> response` per supporter turn (the unit papers count as "samples"), and their
export in SoulChat's flattened form (`input` = 用户：/心理咨询师： transcript ending in an open counsellor slot,
`target`)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from distill.records import make_id
from distill.shards import iter_rows

SOULCHAT_TAGS = {"user": "用户：", "assistant": "心理咨询师："}


def sample_windows(dialogue: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One SAMPLE_WINDOW row per assistant message that has seeker context before it."""
    messages = dialogue["messages"]
    for turn, message in enumerate(messages):
        if message["role"] != "assistant" or not any(m["role"] == "user" for m in messages[:turn]):
            continue
        yield {
            "id": make_id(dialogue["id"], turn),
            "dialogue_id": dialogue["id"],
            "seed_id": dialogue.get("seed_id"),
            "turn": turn,
            "emotion": dialogue.get("emotion"),
            "context": [{"role": m["role"], "content": m["content"]} for m in messages[:turn]],
            "response": message["content"],
            "source": dialogue.get("source"),
            "license": dialogue.get("license"),
        }


def soulchat_item(window: dict[str, Any]) -> dict[str, str]:
    """SoulChat SFT form; the system prompt, if any, is not part of SoulChat transcripts and is left out."""
    lines = [f"{SOULCHAT_TAGS[m['role']]}{m['content']}" for m in window["context"] if m["role"] in SOULCHAT_TAGS]
    return {"id": window["id"], "input": "\n".join([*lines, SOULCHAT_TAGS["assistant"]]), "target": window["response"]}


def export_soulchat(samples_dir: Path, out: Path) -> int:
    """Write every sample window as one SoulChat JSON line to `out` (atomically); returns the count."""
    tmp = out.with_name(f".{out.name}.tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(tmp, "w", encoding="utf-8") as fh:
        for window in iter_rows(samples_dir):
            fh.write(json.dumps(soulchat_item(window), ensure_ascii=False) + "\n")
            n += 1
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(out)
    return n
