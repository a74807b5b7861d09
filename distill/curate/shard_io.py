"""One shard at a time: the unit of parallel work in curation (a Ray task, or one step of the local loop)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from distill.errors import InputError
from distill.shards import ShardInfo, iter_shard_batches


def check_columns(info: ShardInfo, batch: pa.RecordBatch, required: tuple[str, ...]) -> None:
    missing = [c for c in required if c not in batch.schema.names]
    if missing:
        raise InputError(f"{info.path}: not a dialogue shard, missing field(s) {', '.join(missing)}")


def iter_shard_records(
    info: ShardInfo, required: tuple[str, ...] = ("id", "messages")
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(1-based row in the shard, record) for every row of one shard."""
    row = 0
    for batch in iter_shard_batches(info):
        check_columns(info, batch, required)
        for record in batch.to_pylist():
            row += 1
            yield row, record


def clear(*folders: Path) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
