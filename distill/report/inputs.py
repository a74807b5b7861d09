"""What the report reads from a run folder, each reader returning None when its input is not there (yet).

The dataset is streamed column by column: counters for emotions and strategies, and a fixed-size seeded reservoir
per numeric series (lengths, scores), so memory does not grow with the number of dialogues.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distill.records import scores_dict
from distill.shards import iter_batches, list_shards

log = logging.getLogger(__name__)

RESERVOIR = 20_000  # values kept per plotted series: enough for a histogram, bounded whatever the dataset size
EXAMPLE_DIALOGUES = 3


class Reservoir:
    """Uniform sample of at most `size` values from a stream (Vitter's algorithm R, seeded: same run, same plot)."""

    def __init__(self, size: int = RESERVOIR, seed: int = 0) -> None:
        self.size, self.seen, self.values = size, 0, []
        self._rng = random.Random(seed)

    def add(self, value: float) -> None:
        self.seen += 1
        if len(self.values) < self.size:
            self.values.append(value)
        elif (j := self._rng.randrange(self.seen)) < self.size:
            self.values[j] = value


@dataclass
class DatasetSummary:
    folder: str
    dialogues: int = 0
    emotions: Counter[str] = field(default_factory=Counter)
    strategies: Counter[str] = field(default_factory=Counter)
    modes: Counter[str] = field(default_factory=Counter)
    turns: Reservoir = field(default_factory=Reservoir)
    supporter_words: Reservoir = field(default_factory=Reservoir)
    scores: dict[str, Reservoir] = field(default_factory=dict)
    examples: list[dict[str, Any]] = field(default_factory=list)


def read_dataset(run_dir: Path) -> DatasetSummary | None:
    """Summary of curated/ (or generated/ when curation has not run)."""
    for name in ("curated", "generated"):
        folder = run_dir / name
        if list_shards(folder):
            break
    else:
        return None
    summary = DatasetSummary(folder=name)
    columns = ["id", "emotion", "strategies", "mode", "messages", "scores"]
    for batch in iter_batches(folder, columns=[c for c in columns if c in _schema_names(folder)]):
        for row in batch.to_pylist():
            summary.dialogues += 1
            summary.emotions[row.get("emotion") or "unlabeled"] += 1
            summary.modes[row.get("mode") or "?"] += 1
            summary.strategies.update(row.get("strategies") or [])
            messages = row.get("messages") or []
            summary.turns.add(sum(m["role"] != "system" for m in messages))
            for m in messages:
                if m["role"] == "assistant":
                    summary.supporter_words.add(len(m["content"].split()))
            for key, value in scores_dict(row.get("scores")).items():
                if value is not None:
                    summary.scores.setdefault(key, Reservoir()).add(float(value))
            if len(summary.examples) < EXAMPLE_DIALOGUES:
                summary.examples.append({"id": row.get("id"), "emotion": row.get("emotion"), "messages": messages})
    return summary


def _schema_names(folder: Path) -> set[str]:
    import pyarrow.parquet as pq

    first = list_shards(folder)[0].path
    if first.suffix == ".parquet":
        return set(pq.read_schema(first).names)
    import pyarrow as pa

    with pa.memory_map(str(first)) as source:
        return set(pa.ipc.open_file(source).schema.names)


def read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        log.warning("report: cannot read %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) else None


# Milestones the curate stage counts, in pipeline order (see distill/curate): the funnel's bars.
CURATE_MILESTONES = (
    ("dialogues_in", "generated dialogues"),
    ("passed_filters", "passed heuristic + safety filters"),
    ("passed_thresholds", "passed scoring thresholds"),
    ("curated", "curated (after dedup)"),
)


def funnel_steps(curate: dict[str, Any], seeds: dict[str, Any] | None = None) -> list[tuple[str, float]] | None:
    """[(step, records remaining)]: seeds, then the curate stage's milestones; None when stats/curate.json has none."""
    counters: dict[str, float] = curate.get("counters") or {}
    steps = [(label, float(counters[key])) for key, label in CURATE_MILESTONES if key in counters]
    if not steps:
        return None
    seed_counters = (seeds or {}).get("counters") or {}
    head = [
        (label, float(seed_counters[key]))
        for key, label in (("records_kept", "seeds loaded"), ("for_generation", "seeds for generation"))
        if key in seed_counters
    ]
    return head + steps


def dropped_by_reason(curate: dict[str, Any]) -> dict[str, float]:
    """`dropped/<filter>/<reason>` counters as {"<filter>: <reason>": n}."""
    out: dict[str, float] = {}
    for key, value in (curate.get("counters") or {}).items():
        parts = key.split("/")
        if parts[0] == "dropped" and len(parts) >= 2:
            out[": ".join(parts[1:])] = float(value)
    return out


def loss_curve(train: dict[str, Any]) -> list[tuple[float, float]] | None:
    """[(step, loss)] from stats/train.json: `info.loss_curve` / `info.losses` / `loss_curve` as pairs, dicts or plain
    values."""
    info = train.get("info") or {}
    raw = next(
        (src[k] for src in (info, train) for k in ("loss_curve", "losses", "loss") if isinstance(src.get(k), list)),
        None,
    )
    if not raw:
        return None
    points: list[tuple[float, float]] = []
    for i, item in enumerate(raw):
        if isinstance(item, dict) and "loss" in item:
            points.append((float(item.get("step", i)), float(item["loss"])))
        elif isinstance(item, (list, tuple)) and len(item) >= 2:
            points.append((float(item[0]), float(item[1])))
        elif isinstance(item, (int, float)):
            points.append((float(i), float(item)))
    return points or None
