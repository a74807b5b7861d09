"""Anything that rates (seeker post, response) pairs with EPITOME levels, so `validate` measures every scorer the same
way.

A predictor returns one (emotional reactions, interpretations, explorations) triple of 0/1/2 per pair, or None for a
pair it could not rate (a judge reply that failed to parse, say); validation leaves those out and says how many.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from distill.epitome.agreement import Levels, Pair
from distill.errors import ConfigError

if TYPE_CHECKING:
    from distill.config import RunConfig

PREDICTORS = ("epitome_lexical", "epitome_classifier", "llm_judge")


@runtime_checkable
class LevelPredictor(Protocol):
    name: str

    def predict(self, pairs: Sequence[Pair]) -> list[Levels | None]: ...


class LexicalPredictor:
    """The offline cue lexicon (`distill.text.lexicon`); it reads the response only."""

    name = "epitome_lexical"

    def predict(self, pairs: Sequence[Pair]) -> list[Levels | None]:
        from distill.text.lexicon import epitome_levels

        return [epitome_levels(response) for _, response in pairs]


def build_predictor(scorer: str | None, model: str | None = None, cfg: RunConfig | None = None) -> LevelPredictor:
    """`--model DIR` -> the trained classifier at DIR, on the scoring path a run with `cfg` uses
    (`curate.epitome_quantize`), so its figures are those of the scores it gives there; `--scorer NAME` -> that
    scorer (the judge uses `cfg`'s teacher)."""
    if model is not None:
        from distill.config import RunConfig
        from distill.epitome.classifier import EpitomeClassifier

        return EpitomeClassifier.load(model, device="auto", quantize=(cfg or RunConfig()).curate.epitome_quantize)
    match scorer:
        case "epitome_lexical":
            return LexicalPredictor()
        case "epitome_classifier":
            raise ConfigError("--scorer epitome_classifier needs the model folder: use --model DIR")
        case "llm_judge":
            from distill.config import RunConfig
            from distill.epitome.judge import EpitomeJudge

            return EpitomeJudge.from_config(cfg or RunConfig())
        case _:
            raise ConfigError(f"--scorer {scorer!r}: unknown; choose one of {', '.join(PREDICTORS)} (or --model DIR)")
