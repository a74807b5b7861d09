"""Per-stage counters written as `stats/<stage>.json`, and their merge across workers.

Counters use snake_case keys such as `kept`, `dropped/<filter>/<reason>`, `tokens/prompt`. A stage
keeps one `StageStats`, workers return theirs and the driver merges them before writing.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_json


class StageStats:
    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.counters: Counter[str] = Counter()
        self.info: dict[str, Any] = {}
        self.started_at = time.time()

    def add(self, key: str, n: int | float = 1) -> None:
        self.counters[key] += n

    def merge(self, other: StageStats | dict[str, Any]) -> None:
        counters = other.counters if isinstance(other, StageStats) else other.get("counters", {})
        self.counters.update(counters)

    def by_prefix(self, prefix: str) -> dict[str, int | float]:
        """Counters under `prefix/`, with the prefix stripped: e.g. `rejected/` -> {reason: n}."""
        head = prefix.rstrip("/") + "/"
        return {k[len(head) :]: v for k, v in sorted(self.counters.items()) if k.startswith(head)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "counters": dict(sorted(self.counters.items())),
            "info": self.info,
            "wall_s": round(time.time() - self.started_at, 3),
        }

    def write(self, run_dir: str | Path) -> Path:
        path = Path(run_dir) / "stats" / f"{self.stage}.json"
        atomic_write_json(path, self.to_dict())
        return path


def read_stats(run_dir: str | Path, stage: str) -> dict[str, Any] | None:
    path = Path(run_dir) / "stats" / f"{stage}.json"
    return json.loads(path.read_text()) if path.exists() else None


def stored_stats(run_dir: str | Path, stage: str) -> StageStats:
    """A finished stage's stats as written to stats/<stage>.json, counters and info (empty when the file is missing)."""
    stats = StageStats(stage)
    data = read_stats(run_dir, stage) or {}
    stats.merge(data)
    stats.info = data.get("info", {})
    return stats
