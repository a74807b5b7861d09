"""Curation pass 3, per scored shard: drop the dedup losers (as rejects naming their keeper), write the curated
dialogues and their sample windows; returns the shard's counters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from distill.config import RunConfig
from distill.curate.shard_io import iter_shard_records
from distill.curate.windows import sample_windows
from distill.dedup.near import Duplicate
from distill.records import DIALOGUE, REJECT, SAMPLE_WINDOW, make_reject, scores_dict
from distill.shards import ShardInfo, ShardWriter, clear_prefix
from distill.stages import CURATE
from distill.stats import StageStats


def finalize_shard(
    info: ShardInfo,
    cfg: RunConfig,
    duplicates: dict[str, Duplicate],
    curated_dir: Path,
    samples_dir: Path,
    rejects_dir: Path,
) -> dict[str, Any]:
    stats = StageStats(CURATE.name)
    prefix = info.path.stem
    rows = cfg.curate.rows_per_shard
    for folder, pfx in ((curated_dir, prefix), (samples_dir, prefix), (rejects_dir, f"{prefix}-dedup")):
        clear_prefix(folder, pfx)
    with (
        ShardWriter(curated_dir, DIALOGUE, prefix=prefix, rows_per_shard=rows) as curated_out,
        ShardWriter(samples_dir, SAMPLE_WINDOW, prefix=prefix, rows_per_shard=rows) as samples_out,
        ShardWriter(rejects_dir, REJECT, prefix=f"{prefix}-dedup", rows_per_shard=rows) as rejects_out,
    ):
        for _, record in iter_shard_records(info):
            record["scores"] = scores_dict(record.get("scores"))
            dup = duplicates.get(record["id"])
            if dup is not None:
                stats.add(f"dropped/dedup/{dup.reason}")
                detail = (
                    f"[dedup] duplicate of {dup.keeper_id} (similarity {dup.similarity:.3f}); the keeper has "
                    "higher empathy or a smaller id"
                )
                rejects_out.write([make_reject(CURATE.name, dup.reason, detail, record=record)])
                continue
            curated_out.write([record])
            stats.add("curated")
            stats.add(f"emotion/{record.get('emotion') or 'none'}")
            stats.add(f"mode/{record.get('mode')}")
            stats.add(f"language/{record.get('language') or 'none'}")
            stats.add(f"license/{record.get('license') or 'unknown'}")
            stats.add(f"turns/{sum(m['role'] != 'system' for m in record['messages'])}")
            for name, value in record["scores"].items():  # sum and count: the card reports each score's mean
                stats.add(f"score_sum/{name}", value)
                stats.add(f"score_n/{name}")
            for strategy in record.get("strategies") or []:
                stats.add(f"strategy/{strategy}")
            windows = list(sample_windows(record))
            samples_out.write(windows)
            stats.add("samples", len(windows))
            stats.add("chars/supporter", sum(len(m["content"]) for m in record["messages"] if m["role"] == "assistant"))
    return stats.to_dict()
