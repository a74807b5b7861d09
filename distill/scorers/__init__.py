"""Empathy scorers: each returns scores by name, never a decision (thresholds are separate filters); `build_scorers`
picks them from config."""

from __future__ import annotations

from typing import TYPE_CHECKING

from distill.scorers.base import Scorer, ScoreResult, merge_scores

if TYPE_CHECKING:
    from distill.config import RunConfig
    from distill.teachers.base import Teacher

__all__ = ["ScoreResult", "Scorer", "build_scorers", "merge_scores"]


def build_scorers(cfg: RunConfig, judge_teacher: Teacher | None = None) -> list[Scorer]:
    """Scorers named in `curate.scorers`, in order; the LLM judge asks `judge_teacher` (long-lived teacher actors,
    say) or else builds the run's teacher backend here."""
    section = cfg.curate
    scorers: list[Scorer] = []
    for name in section.scorers:
        match name:
            case "epitome_lexical":
                from distill.scorers.epitome_lexical import LexicalEpitomeScorer

                scorers.append(LexicalEpitomeScorer())
            case "epitome_classifier":
                from distill.scorers.epitome_classifier import EpitomeClassifierScorer

                scorers.append(
                    EpitomeClassifierScorer(
                        section.epitome_model or "",
                        quantize=section.epitome_quantize,
                        batch_size=section.classifier_batch_size,
                    )
                )
            case "strategy_coverage":
                from distill.scorers.strategies import StrategyCoverageScorer

                scorers.append(StrategyCoverageScorer())
            case "valence_shift":
                from distill.scorers.valence import ValenceShiftScorer

                scorers.append(ValenceShiftScorer())
            case "llm_judge":
                from distill.scorers.llm_judge import LLMJudgeScorer, load_empathy_rubric
                from distill.teachers import build_teacher

                teacher = judge_teacher if judge_teacher is not None else build_teacher(cfg.teacher)
                scorers.append(
                    LLMJudgeScorer(
                        teacher, load_empathy_rubric(section.judge_rubric), max_tokens=section.judge_max_tokens
                    )
                )
            case "hf_classifier":
                from distill.scorers.hf_classifier import HFClassifierScorer

                scorers.append(HFClassifierScorer(section.hf_classifier_path or "", section.hf_classifier_name))
            case other:
                raise ValueError(f"unknown scorer {other!r}")
    return scorers
