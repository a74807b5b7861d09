"""Exactly-once bookkeeping on disk: unit-batch markers and the plan marker.

A unit batch `units-000012` owns `generated/units-000012-*.parquet` and `rejects/generate/units-000012-*.parquet`
(each finished atomically by ShardWriter) and is done iff `generated/_done/units-000012.done` exists; that marker is
written last. Markers end in `.done`, not `.json`, so shard readers never mistake them for shard markers. A batch that
died half-written is cleared with `distill.shards.clear_prefix` before it is redone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_json
from distill.shards import DONE_DIR

BATCH_SUFFIX = ".done"
PLAN_MARKER = "plan.done"


def batch_marker(generated: Path, name: str) -> Path:
    return generated / DONE_DIR / f"{name}{BATCH_SUFFIX}"


def done_batches(generated: Path) -> dict[str, dict[str, Any]]:
    """Marker contents of every finished unit batch, by batch name."""
    folder = generated / DONE_DIR
    if not folder.is_dir():
        return {}
    return {
        p.name[: -len(BATCH_SUFFIX)]: json.loads(p.read_text()) for p in sorted(folder.glob(f"units-*{BATCH_SUFFIX}"))
    }


def mark_batch(generated: Path, name: str, content: dict[str, Any]) -> None:
    atomic_write_json(batch_marker(generated, name), content)


def plan_marker(plan: Path) -> Path:
    return plan / DONE_DIR / PLAN_MARKER
