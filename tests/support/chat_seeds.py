"""Chat-format seed files written by hand (unlabelled and labelled seeds), the run config that loads them, and every
seed a run kept (for generation and held out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distill.config import RunConfig, load_config
from distill.run_dir import RunDir
from distill.shards import iter_rows


def write_chats(path: Path, unlabelled: int, labelled: tuple[str, ...] = ("joyful",)) -> Path:
    """`unlabelled` chat seeds without an emotion (distinct texts) and one labelled seed per name in `labelled`."""
    topics = [
        "my dog died",
        "I lost my job",
        "my sister is getting married",
        "I failed the exam",
        "a stranger helped me",
    ]
    rows: list[dict[str, Any]] = [
        {
            "messages": [
                {"role": "user", "content": f"Today {topics[i % len(topics)]} (day {i})."},
                {"role": "assistant", "content": "Tell me more."},
            ]
        }
        for i in range(unlabelled)
    ]
    rows += [
        {
            "emotion": e,
            "messages": [{"role": "user", "content": f"I feel {e}."}, {"role": "assistant", "content": "I see."}],
        }
        for e in labelled
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def chat_seeds_config(tmp_path: Path, chats: Path, *extra: str, name: str = "e") -> RunConfig:
    """A run under tmp_path/runs whose seeds are the chat file `chats`, 30 % of them held out."""
    return load_config(
        None,
        [
            f"run.output_dir={tmp_path / 'runs'}",
            f"run.name={name}",
            f"seeds.sources=[{{path: {chats}, format: chat}}]",
            "seeds.holdout_fraction=0.3",
            *extra,
        ],
    )


def all_seeds(cfg: RunConfig) -> list[dict[str, Any]]:
    run = RunDir(cfg)
    return [*iter_rows(run.seeds), *iter_rows(run.holdout)]
