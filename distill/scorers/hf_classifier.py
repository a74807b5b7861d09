"""Any HF sequence-classification model at a local path (e.g. an EPITOME RoBERTa checkpoint) as a scorer.

Each supporter turn is classified as the pair (preceding seeker turn, response). With several labels the turn score is
the expected label index (sum_i p_i * i, so 0..2 for EPITOME's three levels); with one label it is the raw regression
output. The dialogue score is the mean over supporter turns. No remote code, no hub: local folders only.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from distill.errors import ConfigError
from distill.filters.dialogue import turns
from distill.scorers.base import ScoreFailure, mean, scores_of

log = logging.getLogger(__name__)


def response_pairs(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(seeker turn, supporter reply) for every supporter turn that follows a seeker turn."""
    convo = turns(record)
    return [
        (convo[i - 1].get("content") or "", m.get("content") or "")
        for i, m in enumerate(convo)
        if m.get("role") == "assistant" and i > 0 and convo[i - 1].get("role") == "user"
    ]


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
                [p[0] for p in chunk], [p[1] for p in chunk], truncation=True, max_length=self.max_length, padding=True, return_tensors="pt"
            )
            with torch.no_grad():
                logits = self.model(**enc).logits.float()
            if logits.shape[-1] == 1:
                out.extend(logits[:, 0].tolist())
            else:
                levels = torch.arange(logits.shape[-1], dtype=logits.dtype)
                out.extend((logits.softmax(-1) * levels).sum(-1).tolist())
        return out

    def score(self, records: list[dict[str, Any]]) -> list[ScoreFailure | None]:
        per_record = [response_pairs(r) for r in records]
        flat = [p for pairs in per_record for p in pairs]
        values = self._turn_scores(flat) if flat else []
        failures: list[ScoreFailure | None] = []
        offset = 0
        for record, pairs in zip(records, per_record, strict=True):
            if not pairs:
                failures.append(("no_scorable_turns", f"{self.name}: no supporter turn follows a seeker turn"))
                continue
            scores_of(record)[self.name] = mean(values[offset : offset + len(pairs)])
            offset += len(pairs)
            failures.append(None)
        return failures
