"""Evaluation: held-out prompts -> base student, distilled student and teacher responses -> judge and metrics ->
eval.json.

Modules: `prompts` (held-out seeds -> prompts + references), `systems` (who answers, as TeacherSections), `judge`
(versioned rubrics, reply parsing), `epitome`, `bertscore`, `diversity`, `valence` (one metric each), `metrics`
(fills them into response rows), `aggregate` (per system / emotion / polarity), `stage` (`run_evaluate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distill.config import RunConfig
    from distill.stats import StageStats

__all__ = ["run_evaluate"]


def run_evaluate(cfg: RunConfig, *, new_run: bool = False) -> StageStats:
    from distill.evaluate.stage import run_evaluate as _run

    return _run(cfg, new_run=new_run)
