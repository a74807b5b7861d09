"""Connected components over duplicate edges, and the keeper rule: highest empathy score, then smallest id."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:  # path compression keeps later finds O(1)
            parent[i], i = root, parent[i]
        return int(root)

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(i), self.find(j)
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)

    def union_pairs(self, pairs: Iterable[tuple[int, int]] | np.ndarray) -> None:
        for i, j in pairs:
            self.union(int(i), int(j))

    def roots(self) -> np.ndarray:
        return np.fromiter((self.find(i) for i in range(len(self.parent))), dtype=np.int64, count=len(self.parent))


def keepers(roots: np.ndarray, ids: list[str], empathy: np.ndarray) -> np.ndarray:
    """For each row, the row index of its component's keeper (highest empathy, then smallest id)."""
    n = len(ids)
    # Rank rows so that the best keeper comes first: empathy descending (NaN last), then id ascending.
    emp = np.where(np.isnan(empathy), -np.inf, empathy)
    id_rank = np.empty(n, dtype=np.int64)
    id_rank[np.argsort(np.asarray(ids, dtype=object), kind="stable")] = np.arange(n)
    order = np.lexsort((id_rank, -emp))
    keeper_of_root: dict[int, int] = {}
    for idx in order:
        keeper_of_root.setdefault(int(roots[idx]), int(idx))
    return np.fromiter((keeper_of_root[int(r)] for r in roots), dtype=np.int64, count=n)
