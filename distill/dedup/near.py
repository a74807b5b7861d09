"""The global dedup step over every shard's signature file: exact duplicates, then MinHash LSH candidates verified
with exact Jaccard, merged into connected components, one keeper per component (highest empathy, then smallest id).

Reads the small columns (id, empathy, exact key, band keys) of every row and the shingle hashes of candidate rows
only. Returns, for each dropped dialogue, its keeper and why: `exact_duplicate` (same normalized text as its keeper)
or `near_duplicate`.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from distill.dedup.clusters import UnionFind, keepers
from distill.dedup.minhash import as_set, candidate_pairs, jaccard
from distill.errors import InputError
from distill.shards import iter_batches

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Duplicate:
    id: str
    keeper_id: str
    reason: str  # exact_duplicate | near_duplicate | semantic_duplicate
    similarity: float  # Jaccard (exact/near) or cosine (semantic) with the row that linked it in


def _read_small_columns(signature_dir: Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    ids: list[str] = []
    empathy: list[np.ndarray] = []
    exact: list[np.ndarray] = []
    bands: list[np.ndarray] = []
    for batch in iter_batches(signature_dir, columns=["id", "empathy", "exact", "bands"]):
        ids.extend(batch.column("id").to_pylist())
        empathy.append(batch.column("empathy").to_numpy(zero_copy_only=False))
        exact.append(batch.column("exact").to_numpy())
        col = batch.column("bands")
        width = col.type.list_size
        bands.append(col.flatten().to_numpy().reshape(-1, width))
    if not ids:
        return [], np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros((0, 1), dtype=np.int64)
    return ids, np.concatenate(empathy), np.concatenate(exact), np.concatenate(bands)


def _shingles_of(signature_dir: Path, wanted: set[str]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    value_set = pa.array(sorted(wanted), pa.string())
    for batch in iter_batches(signature_dir, columns=["id", "shingles"]):
        picked = batch.filter(pc.is_in(batch.column("id"), value_set=value_set))
        for rid, sh in zip(picked.column("id").to_pylist(), picked.column("shingles").to_pylist(), strict=True):
            out[rid] = as_set(sh)
    return out


def find_duplicates(signature_dir: Path, threshold: float) -> list[Duplicate]:
    ids, empathy, exact, bands = _read_small_columns(signature_dir)
    n = len(ids)
    if len(set(ids)) != n:
        repeated = [rid for rid, count in Counter(ids).items() if count > 1]
        raise InputError(
            f"{len(repeated)} dialogue id(s) appear in more than one generated row (e.g. {repeated[0]!r}): the "
            "generated shards overlap"
        )
    uf = UnionFind(n)
    # Exact: rows with the same normalized-text key, chained in sorted order.
    order = np.argsort(exact, kind="stable")
    same = np.flatnonzero(exact[order][1:] == exact[order][:-1])
    uf.union_pairs(zip(order[same], order[same + 1], strict=True))
    # Near: LSH candidates (skipping pairs already joined exactly), verified by exact Jaccard.
    pairs = candidate_pairs(bands) if n > 1 else np.zeros((0, 2), dtype=np.int64)
    pairs = pairs[exact[pairs[:, 0]] != exact[pairs[:, 1]]] if len(pairs) else pairs
    shingles = _shingles_of(signature_dir, {ids[i] for i in np.unique(pairs)}) if len(pairs) else {}
    sim_of: dict[int, float] = {}
    verified = 0
    for i, j in pairs:
        sim = jaccard(shingles[ids[i]], shingles[ids[j]])
        if sim >= threshold:
            uf.union(int(i), int(j))
            sim_of[int(i)] = max(sim_of.get(int(i), 0.0), sim)
            sim_of[int(j)] = max(sim_of.get(int(j), 0.0), sim)
            verified += 1
    log.info(
        "dedup: %d rows, %d LSH candidate pairs, %d verified at Jaccard >= %.2f", n, len(pairs), verified, threshold
    )
    keeper = keepers(uf.roots(), ids, empathy)
    out = []
    for i in range(n):
        k = int(keeper[i])
        if k != i:
            if exact[i] == exact[k]:
                out.append(Duplicate(ids[i], ids[k], "exact_duplicate", 1.0))
            else:
                out.append(Duplicate(ids[i], ids[k], "near_duplicate", sim_of.get(i, threshold)))
    return out
