"""EPITOME levels of a response and diff-EPITOME against the reference response (EmPO, Sotolar et al., 2024).

Levels come from the same scorer curation uses: the classifier fitted by `distill scorers fit` when
`eval.epitome_model` (or `curate.epitome_model`) names one, else the lexical cues. Each response and each reference
is rated as the pair (the seeker's last turn, the text). diff-EPITOME is |level(response) - level(reference)| per
mechanism: 0 means the response expresses each mechanism as strongly as the human reference did; lower is better.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distill.config import RunConfig
    from distill.epitome.predictors import LevelPredictor

MECHANISMS = ("er", "ip", "ex")  # emotional reactions, interpretations, explorations


def epitome_model(cfg: RunConfig) -> str | None:
    return cfg.eval.epitome_model or (cfg.curate.epitome_model if "epitome_classifier" in cfg.curate.scorers else None)


def level_predictor(cfg: RunConfig) -> LevelPredictor:
    from distill.epitome.predictors import LexicalPredictor, build_predictor

    model = epitome_model(cfg)
    return LexicalPredictor() if model is None else build_predictor(None, model=model, cfg=cfg)


def epitome_many(items: Sequence[tuple[str, str, str | None]], predictor: LevelPredictor) -> list[dict[str, float]]:
    """For each (seeker turn, response, reference or None): `epitome_<m>` levels, and `diff_epitome_<m>` with a
    reference."""
    pairs = [(seeker, response) for seeker, response, _ in items]
    refs = [(i, (seeker, ref)) for i, (seeker, _, ref) in enumerate(items) if ref is not None]
    levels = predictor.predict(pairs + [pair for _, pair in refs]) if items else []
    out = [{f"epitome_{m}": float(v) for m, v in zip(MECHANISMS, lv or (0, 0, 0))} for lv in levels[: len(items)]]
    for (i, _), ref_levels in zip(refs, levels[len(items) :]):
        ref = ref_levels or (0, 0, 0)
        out[i].update({f"diff_epitome_{m}": abs(out[i][f"epitome_{m}"] - r) for m, r in zip(MECHANISMS, ref)})
    return out


def epitome(response: str, reference: str | None, seeker: str = "") -> dict[str, float]:
    """One response with the lexical cues (kept for callers that rate a single text)."""
    from distill.epitome.predictors import LexicalPredictor

    return epitome_many([(seeker, response, reference)], LexicalPredictor())[0]
