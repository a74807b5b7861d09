"""Per-response metrics, filled into the rows in place: judge verdicts, EPITOME, BERTScore, VADER, length.

Models are loaded once for all systems (one judge, one BERTScore encoder), so the cost does not grow with
the number of systems beyond the calls themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from distill.config import RunConfig
from distill.evaluate.diversity import tokens
from distill.evaluate.epitome import epitome_many, level_predictor
from distill.evaluate.judge import Judge, JudgeItem
from distill.evaluate.systems import ModelSlot, judge_section
from distill.evaluate.valence import valence
from distill.stats import StageStats

log = logging.getLogger(__name__)


def _seeker_last(context: list[dict[str, str]]) -> str:
    return next((m["content"] for m in reversed(context) if m["role"] == "user"), "")


def add_judge_verdicts(
    cfg: RunConfig, rows: list[dict[str, Any]], stats: StageStats, slot: ModelSlot
) -> dict[str, Any]:
    teacher = slot.get(judge_section(cfg))
    info = {
        "model": teacher.model,
        "backend": teacher.backend,
        "rubric_version": cfg.eval.rubric_version,
        "max_tokens": cfg.eval.judge_max_tokens,
    }
    judge = Judge(teacher, cfg.eval.rubric_version, cfg.eval.judge_max_tokens)
    verdicts = judge.rate([JudgeItem(row["id"], row["context"], row["response"]) for row in rows])
    for row, by_rubric in zip(rows, verdicts):
        row["judge_failures"], row["judge_details"] = {}, {}
        for rubric, verdict in by_rubric.items():
            if verdict.ok:
                stats.add(f"judge/{rubric}/ok")
                if rubric == "empathy_rating":
                    row["rating"] = verdict.value
                else:
                    row["scores"].update({f"cehs_{k}": float(v) for k, v in verdict.value.items()})
            else:
                stats.add(f"judge/{rubric}/failed/{verdict.failure}")
                row["judge_failures"][rubric] = verdict.failure
                row["judge_details"][rubric] = verdict.detail
    return info


def add_bertscore(cfg: RunConfig, rows: list[dict[str, Any]], stats: StageStats) -> None:
    from distill.evaluate.bertscore import bertscore

    with_ref = [row for row in rows if row["reference"]]
    stats.add("bertscore/no_reference", len(rows) - len(with_ref))
    scores = bertscore(
        [r["response"] for r in with_ref],
        [r["reference"] for r in with_ref],
        model=cfg.eval.bertscore_model,
        num_layers=cfg.eval.bertscore_num_layers,
    )
    for row, (p, r, f) in zip(with_ref, scores):
        row["scores"].update({"bertscore_p": p, "bertscore_r": r, "bertscore_f1": f})


def score_rows(cfg: RunConfig, rows: list[dict[str, Any]], stats: StageStats, slot: ModelSlot) -> dict[str, Any] | None:
    """Fill `scores`, `rating` and judge failures of every row; returns the judge's identity (None when judging is
    off)."""
    for row in rows:
        scores: dict[str, float] = {"words": float(len(tokens(row["response"])))}
        v = valence(row["response"], _seeker_last(row["context"]))
        scores.update({"vader_compound": v["compound"], "vader_shift": v["shift"]})
        row["scores"] = scores
    if cfg.eval.epitome and rows:
        predictor = level_predictor(cfg)  # loaded once for every system's rows
        items = [(_seeker_last(row["context"]), row["response"], row["reference"]) for row in rows]
        for row, levels in zip(rows, epitome_many(items, predictor), strict=True):
            row["scores"].update(levels)
        stats.add(f"epitome/{predictor.name}", len(rows))
    if cfg.eval.bertscore and rows:
        add_bertscore(cfg, rows, stats)
    if cfg.eval.judge and rows:
        return add_judge_verdicts(cfg, rows, stats, slot)
    return None
