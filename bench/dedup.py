"""MinHash dedup: this project's path (rensa signatures + numpy LSH banding + exact-Jaccard verification) against
datasketch (MinHash + MinHashLSH) on the same documents, and both against the exact Jaccard of every pair.

    python -m bench.dedup [--docs 20000] [--words 200] [--threshold 0.8] [--num-perm 128]

Documents are random word sequences with planted near-duplicate groups whose Jaccard spreads across the threshold.
Ground truth is every pair with exact Jaccard >= threshold, from a sparse doc x shingle product (all pairs, no
sampling).
Writes bench/results/dedup.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results" / "dedup.md"
CHUNK = 2048
# Word-replacement rates for planted copies: 5-gram Jaccard from ~0.95 down to ~0.3, across the threshold.
RATES = (0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.07, 0.1, 0.15)


def make_docs(n: int, words: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(20_000)]
    docs: list[str] = []
    while len(docs) < n:
        base = [rng.choice(vocab) for _ in range(words)]
        docs.append(" ".join(base))
        for rate in RATES[: max(0, min(len(RATES), n - len(docs)))] if rng.random() < 0.3 else ():
            copy = [w if rng.random() > rate else rng.choice(vocab) for w in base]
            docs.append(" ".join(copy))
    return docs[:n]


def true_pairs(hashes: list[list[int]], threshold: float) -> set[tuple[int, int]]:
    """Every pair with exact Jaccard >= threshold: intersections from a sparse doc x shingle matrix product."""
    from scipy import sparse

    index: dict[int, int] = {}
    rows, cols = [], []
    for r, hs in enumerate(hashes):
        for h in hs:
            rows.append(r)
            cols.append(index.setdefault(h, len(index)))
    x = sparse.csr_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(hashes), len(index)))
    inter = sparse.triu(x @ x.T, k=1).tocoo()
    sizes = np.asarray(x.sum(axis=1)).ravel()
    jac = inter.data / (sizes[inter.row] + sizes[inter.col] - inter.data)
    keep = jac >= threshold
    return set(zip(inter.row[keep].tolist(), inter.col[keep].tolist()))


def ours(docs: list[str], threshold: float, num_perm: int) -> tuple[set[tuple[int, int]], float, float]:
    from distill.dedup.minhash import as_set, band_keys, candidate_pairs, jaccard, lsh_params, signatures
    from distill.dedup.shingles import shingle_hashes

    t0, c0 = time.perf_counter(), time.process_time()
    bands, rows = lsh_params(threshold, num_perm)
    hashes: list[np.ndarray] = []
    keys = []
    for start in range(0, len(docs), CHUNK):  # as the stage does: bounded batches, not the whole corpus at once
        chunk = shingle_hashes(docs[start : start + CHUNK], 5, distinct=False)
        hashes.extend(chunk)
        keys.append(band_keys(signatures(chunk, num_perm), bands, rows))
    keys = np.concatenate(keys)
    pairs = candidate_pairs(keys)
    distinct = {int(i): as_set(hashes[i]) for i in np.unique(pairs)}  # candidate rows only, as the stage does
    found = {(int(i), int(j)) for i, j in pairs if jaccard(distinct[int(i)], distinct[int(j)]) >= threshold}
    return found, time.perf_counter() - t0, time.process_time() - c0


def with_datasketch(docs: list[str], threshold: float, num_perm: int) -> tuple[set[tuple[int, int]], float, float]:
    from datasketch import MinHash, MinHashLSH

    from distill.dedup.shingles import shingles

    t0, c0 = time.perf_counter(), time.process_time()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    found: set[tuple[int, int]] = set()
    for i, doc in enumerate(docs):
        m = MinHash(num_perm=num_perm, seed=1)
        m.update_batch(
            [s.encode("utf-8") for s in set(shingles(doc, 5))]
        )  # the vectorized update, not one call per shingle
        for j in lsh.query(m):
            found.add((j, i))
        lsh.insert(i, m)
    return found, time.perf_counter() - t0, time.process_time() - c0


def precision_recall(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float]:
    tp = len(found & truth)
    return (tp / len(found) if found else 1.0), (tp / len(truth) if truth else 1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dedup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    from distill.dedup.minhash import lsh_params
    from distill.dedup.shingles import shingle_hashes

    docs = make_docs(args.docs, args.words)
    truth = true_pairs(shingle_hashes(docs, 5), args.threshold)
    # Best of `repeats` (CPU time, then wall): the machine is shared, so the minimum is the least disturbed run.
    runs = [ours(docs, args.threshold, args.num_perm) for _ in range(args.repeats)]
    ours_pairs, ours_s, ours_cpu = min(runs, key=lambda r: (r[2], r[1]))
    runs = [with_datasketch(docs, args.threshold, args.num_perm) for _ in range(args.repeats)]
    ds_pairs, ds_s, ds_cpu = min(runs, key=lambda r: (r[2], r[1]))
    op, orr = precision_recall(ours_pairs, truth)
    dp, dr = precision_recall(ds_pairs, truth)
    bands, rows = lsh_params(args.threshold, args.num_perm)
    command = "python -m bench.dedup " + " ".join(sys.argv[1:] if argv is None else argv)
    report = f"""# MinHash dedup: rensa + numpy LSH + verification vs datasketch

Command: `{command.strip()}`
Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, shared 2-core CPU (timings are noisy).
Data: {len(docs)} documents of {args.words} words, 5-word shingles, {len(truth)} pairs with exact Jaccard >= {args.threshold}.
LSH: {args.num_perm} permutations, {bands} bands x {rows} rows (ours); datasketch picks its own for the same threshold.

| method | CPU s | wall s | docs/s (CPU) | pairs found | precision | recall |
|---|---:|---:|---:|---:|---:|---:|
| ours (rensa signatures, numpy banding, exact-Jaccard verification) | {ours_cpu:.2f} | {ours_s:.2f} | {len(docs) / ours_cpu:,.0f} | {len(ours_pairs)} | {op:.4f} | {orr:.4f} |
| datasketch MinHash.update_batch + MinHashLSH (no verification) | {ds_cpu:.2f} | {ds_s:.2f} | {len(docs) / ds_cpu:,.0f} | {len(ds_pairs)} | {dp:.4f} | {dr:.4f} |

Speed-up: **{ds_cpu / ours_cpu:.1f}x** in CPU time, {ds_s / ours_s:.1f}x in wall time (best of {args.repeats} runs each; goal >= 10x). Goals at the threshold: recall >= 0.95, precision >= 0.99.
Both timings include shingling; ours also verifies each candidate pair with the exact Jaccard of its shingle sets,
which is why its precision is 1.0 by construction and its recall is bounded only by the banding.
"""  # noqa: E501 (markdown table rows and report lines)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
