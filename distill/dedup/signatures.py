"""Per-shard dedup work files: for each dialogue its id, empathy, exact-text key, LSH band keys and shingle hashes.

Workers write these next to their scored shard; the global step reads only the small columns of every row and the
shingle hashes of candidate rows, so the driver never holds the dialogues themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from distill.dedup.minhash import band_keys, lsh_params, signatures
from distill.dedup.shingles import dialogue_text, exact_key, shingle_hashes
from distill.records import EMPATHY
from distill.text.turns import Dialogue


def signature_schema(bands: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("id", pa.string(), nullable=False),
            pa.field("empathy", pa.float64()),  # NaN when not scored: ranks last in the keeper rule
            pa.field("exact", pa.int64(), nullable=False),
            pa.field("bands", pa.list_(pa.int64(), bands), nullable=False),
            pa.field("shingles", pa.list_(pa.uint64()), nullable=False),
        ],
        metadata={b"distill.kind": b"dedup_signature"},
    )


def signature_table(records: list[dict[str, Any]], *, threshold: float, num_perm: int, shingle_words: int) -> pa.Table:
    bands, rows = lsh_params(threshold, num_perm)
    texts = [dialogue_text(r) for r in records]
    hashes = shingle_hashes(texts, shingle_words, distinct=False)
    keys = band_keys(signatures(hashes, num_perm), bands, rows)
    empathy = [float(Dialogue.of(r).scores.get(EMPATHY, np.nan)) for r in records]
    columns = {
        "id": pa.array([r["id"] for r in records], pa.string()),
        "empathy": pa.array(empathy, pa.float64()),
        "exact": pa.array([exact_key(t) for t in texts], pa.int64()),
        "bands": pa.FixedSizeListArray.from_arrays(pa.array(keys.reshape(-1), pa.int64()), bands),
        "shingles": pa.array(hashes, pa.list_(pa.uint64())),
    }
    return pa.table(columns, schema=signature_schema(bands))
