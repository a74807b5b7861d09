"""Any HF sequence-classification model at a local path (e.g. an EPITOME RoBERTa checkpoint) as a scorer.

Each supporter turn is classified as the pair (preceding seeker turn, response). With several labels the turn score is
the expected label index (sum_i p_i * i, so 0..2 for EPITOME's three levels); with one label it is the raw regression
output. The dialogue score is the mean over supporter turns. No remote code, no hub: local folders only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from distill.errors import ConfigError
from distill.scorers.base import ScoreFailure, ScoreResult, mean
from distill.text.turns import Dialogue

log = logging.getLogger(__name__)
T = TypeVar("T")


def rate_supporter_turns(
    records: list[dict[str, Any]], rate: Callable[[list[tuple[str, str]]], Sequence[T]]
) -> list[list[T]]:
    """Per record, `rate`'s values for its `Dialogue.response_pairs`, from one `rate` call over the whole batch
    (batched models pay per call); a record with no scorable pair gets an empty list."""
    per_record = [Dialogue.of(r).response_pairs for r in records]
    flat = [p for pairs in per_record for p in pairs]
    values = rate(flat) if flat else []
    out: list[list[T]] = []
    offset = 0
    for pairs in per_record:
        out.append(list(values[offset : offset + len(pairs)]))
        offset += len(pairs)
    return out


class HFClassifierScorer:
    def __init__(self, path: str, name: str = "hf_empathy", *, batch_size: int = 16, max_length: int = 256) -> None:
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if not Path(path).is_dir():
            raise ConfigError(f"curate.hf_classifier_path: {path!r} is not a local model folder")
        self.name = name
        self.batch_size, self.max_length = batch_size, max_length
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True).eval()
        log.info("hf classifier %s: %d labels", path, self.model.config.num_labels)

    def _turn_scores(self, pairs: list[tuple[str, str]]) -> list[float]:
        out: list[float] = []
        torch = self._torch
        for start in range(0, len(pairs), self.batch_size):
            chunk = pairs[start : start + self.batch_size]
            enc = self.tokenizer(
                [p[0] for p in chunk],
                [p[1] for p in chunk],
                truncation=True,
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            )
            with torch.no_grad():
                logits = self.model(**enc).logits.float()
            if logits.shape[-1] == 1:
                out.extend(logits[:, 0].tolist())
            else:
                levels = torch.arange(logits.shape[-1], dtype=logits.dtype)
                out.extend((logits.softmax(-1) * levels).sum(-1).tolist())
        return out

    def score(self, records: list[dict[str, Any]]) -> list[ScoreResult]:
        per_record = rate_supporter_turns(records, self._turn_scores)
        return [{self.name: mean(values)} if values else no_scorable_turns(self.name) for values in per_record]


def no_scorable_turns(scorer: str) -> ScoreFailure:
    return ScoreFailure("no_scorable_turns", f"{scorer}: no supporter turn follows a seeker turn")
