"""Generation stage: plan work units from seeds, synthesize dialogues with a teacher on Ray, write them exactly once.

`run_generate(cfg)` is the entry point for the pipeline, the CLI and `python -m ray_jobs.generate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distill.stats import StageStats


def run_generate(cfg: Any, **kwargs: Any) -> StageStats:
    from distill.generate.runner import run_generate as _run

    return _run(cfg, **kwargs)
