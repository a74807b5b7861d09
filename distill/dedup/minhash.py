"""MinHash signatures (rensa, in Rust, over pre-hashed shingles) and LSH banding.

The band/row split is chosen for the threshold so that pairs at or above it collide in some band with high probability;
collisions are only candidates: they are verified with the exact Jaccard of the shingle sets before anything is dropped.
"""

from __future__ import annotations

from functools import cache

import numpy as np

SEED = 1337  # fixed: signatures written by different workers and runs must be comparable


def signatures(token_hashes: list[np.ndarray], num_perm: int) -> np.ndarray:
    """(n, num_perm) uint32 MinHash matrix from per-document u64 shingle hashes."""
    from rensa import RMinHash

    if not token_hashes:
        return np.zeros((0, num_perm), dtype=np.uint32)
    lengths = np.fromiter((len(h) for h in token_hashes), dtype=np.uint64, count=len(token_hashes))
    offsets = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(lengths, dtype=np.uint64)])
    flat = np.concatenate([np.asarray(h, dtype=np.uint64) for h in token_hashes])
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, num_perm, SEED)
    return np.asarray(matrix.to_rows(), dtype=np.uint32).reshape(len(token_hashes), num_perm)


def _collision_probability(s: float, bands: int, rows: int) -> float:
    return 1.0 - (1.0 - s**rows) ** bands


@cache
def lsh_params(threshold: float, num_perm: int, min_recall_at_threshold: float = 0.995) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm: the largest `rows` (fewest false candidates) whose collision
    probability at the threshold is still >= `min_recall_at_threshold` (misses are what verification cannot recover)."""
    best = (num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        if bands < 1:
            break
        if _collision_probability(threshold, bands, rows) >= min_recall_at_threshold:
            best = (bands, rows)
    return best


_MIX = np.uint64(0x9E3779B97F4A7C15)


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) int64 bucket keys: each band's `rows` signature values mixed into one 64-bit key."""
    n = sigs.shape[0]
    keys = np.zeros((n, bands), dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrap-around multiplication is the hash
        for b in range(bands):
            acc = np.full(n, np.uint64(b + 1) * _MIX, dtype=np.uint64)
            for k in range(rows):
                acc = (acc ^ sigs[:, b * rows + k].astype(np.uint64)) * _MIX
                acc ^= acc >> np.uint64(29)
            keys[:, b] = acc
    return keys.view(np.int64)


def candidate_pairs(keys: np.ndarray, max_bucket: int = 64) -> np.ndarray:
    """(m, 2) row-index pairs i < j that share a bucket in any band. Buckets larger than `max_bucket` contribute
    a chain (each member with the next) instead of all pairs, so one huge bucket cannot blow up memory."""
    pairs: list[np.ndarray] = []
    for b in range(keys.shape[1]):
        col = keys[:, b]
        order = np.argsort(col, kind="stable")
        sorted_keys = col[order]
        starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        sizes = np.diff(np.r_[starts, len(col)])
        # Buckets of equal size are handled together: a (buckets, size) matrix of members, all pairs by triu indices.
        for size in np.unique(sizes[sizes > 1]):
            firsts = starts[sizes == size]
            if size <= max_bucket:
                members = np.sort(order[firsts[:, None] + np.arange(size)], axis=1)
                i, j = np.triu_indices(size, k=1)
                pairs.append(np.stack([members[:, i].ravel(), members[:, j].ravel()], axis=1))
            else:
                for first in firsts:
                    members = np.sort(order[first : first + size])
                    pairs.append(np.stack([members[:-1], members[1:]], axis=1))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(pairs).astype(np.int64), axis=0)


def as_set(hashes: np.ndarray) -> np.ndarray:
    """Sorted distinct copy of a row's shingle hashes, the form `jaccard` takes (sort + neighbour compare: cheaper than
    np.unique)."""
    s = np.sort(np.asarray(hashes, dtype=np.uint64))
    return s[np.r_[True, s[1:] != s[:-1]]] if s.size else s


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two shingle-hash sets given as sorted distinct arrays (`as_set` once per row, not per pair)."""
    if a.size == 0 and b.size == 0:
        return 1.0
    if a.size == 0 or b.size == 0:
        return 0.0
    at = np.searchsorted(b, a)  # binary search of a's hashes in b: no concatenation, no sort
    inter = int(np.count_nonzero(b[np.minimum(at, b.size - 1)] == a))
    return inter / (a.size + b.size - inter)
