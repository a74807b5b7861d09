"""`distill scorers validate`: any scorer against human EPITOME labels, written as the fixed agreement JSON.

With `--model`, the model scores on the path a run with the same config uses (`curate.epitome_quantize`: bf16 or int8
on a CPU), and the figures are also kept beside the model (`validation.json`, with that path), so the dataset card and
the report of any run that scores with it can cite them. The folder lists the pairs it trained on (as digests), so the
figures also say how many of the pairs scored were among them: agreement on those is not agreement on unseen data.
Every validation also gets 95% bootstrap intervals (console, and `validation.json`), never in the fixed `--json`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill.atomic import atomic_write_json
from distill.epitome import MECHANISMS
from distill.epitome.agreement import agreement, agreement_intervals
from distill.epitome.data import EpitomeSet, count_trained_on, read_epitome
from distill.epitome.predictors import build_predictor

if TYPE_CHECKING:
    from distill.config import RunConfig

log = logging.getLogger(__name__)
VALIDATION_FILE = "validation.json"


def validate(
    data_dir: str | Path,
    json_out: str | Path,
    *,
    model: str | None = None,
    scorer: str | None = None,
    cfg: RunConfig | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The agreement JSON (also written to `json_out`) and what goes beside it: the figures' bootstrap `intervals`
    and, with `model`, where and in which format it scored (`scoring`) and how many of the pairs it trained on
    (`trained_on`, None for a folder that does not list them); with `model` these are kept in its folder."""
    data = read_epitome(data_dir)
    predictor = build_predictor(scorer, model=model, cfg=cfg)
    try:
        predictions = predictor.predict([(p.seeker, p.response) for p in data.pairs])
    finally:
        close = getattr(predictor, "close", None)
        if callable(close):
            close()
    covered = getattr(
        predictor, "mechanisms", MECHANISMS
    )  # a model fitted on some mechanisms says nothing of the others
    judged = EpitomeSet(data.pairs, tuple(m for m in data.mechanisms if m in covered), data.digest, data.source)
    result = agreement(judged, predictions, scorer=predictor.name if model is None else f"epitome_classifier:{model}")
    atomic_write_json(json_out, result)
    kept: dict[str, Any] = {"intervals": agreement_intervals(judged, predictions)}
    if model is not None:
        kept |= {
            "data": {"source": str(data.source), "blake2b": data.digest},
            "scoring": {"device": predictor.device, "quantize": predictor.quantize},  # type: ignore[attr-defined]
            "trained_on": count_trained_on(model, data),
        }
        atomic_write_json(Path(model) / VALIDATION_FILE, {**result, **kept})
        log.info(
            "validate: pairs in the model's training split: %s (None: its folder does not say)", kept["trained_on"]
        )
    log.info("validate: %s on %d pairs from %s", result["scorer"], len(data), data_dir)
    return result, kept
