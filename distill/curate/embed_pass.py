"""Curation pass 2b, per scored shard: MiniLM embeddings of the dialogues that survived exact and MinHash dedup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from distill.batching import batched
from distill.config import RunConfig
from distill.curate.shard_io import iter_shard_records
from distill.dedup.semantic import embed, embedding_schema
from distill.dedup.shingles import dialogue_text
from distill.records import EMPATHY
from distill.shards import ShardInfo, ShardWriter, clear_prefix
from distill.text.turns import Dialogue

EMBED_BATCH = 256


def embed_shard(info: ShardInfo, cfg: RunConfig, skip: set[str], out_dir: Path) -> int:
    """Write (id, empathy, unit vector) for each record of the shard not in `skip`; returns rows written."""
    prefix = info.path.stem
    clear_prefix(out_dir, prefix)
    written = 0
    writer: ShardWriter | None = None

    def flush(batch: list[dict[str, Any]]) -> None:
        nonlocal writer, written
        vectors = embed([dialogue_text(r) for r in batch], cfg.curate.embedding_model)
        if writer is None:
            writer = ShardWriter(
                out_dir, embedding_schema(vectors.shape[1]), prefix=prefix, rows_per_shard=cfg.curate.rows_per_shard
            )
        empathy = [float(Dialogue.of(r).scores.get(EMPATHY, np.nan)) for r in batch]
        vector_col = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1), pa.float32()), vectors.shape[1])
        writer.write_table(
            pa.table({"id": [r["id"] for r in batch], "empathy": empathy, "vector": vector_col}, schema=writer.schema)
        )
        written += len(batch)

    try:
        records = (record for _, record in iter_shard_records(info, required=("id", "messages")))
        kept = (record for record in records if record["id"] not in skip)
        for batch in batched(kept, EMBED_BATCH):
            flush(batch)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
    return written
