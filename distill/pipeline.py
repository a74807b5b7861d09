"""The whole run in one call: seeds -> generate -> curate -> train -> eval (which ends with the report).

The stages and their order are `distill.stages.STAGES`; each is resumable and skipped when its marker says done. The run
folder's lease is held across all of them, so no other driver can start a stage between two of this run's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from distill.config import RunConfig
from distill.lease import run_lease
from distill.run_dir import RunDir
from distill.stages import STAGES, runner
from distill.stats import StageStats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageEvent:
    """`starting` (before the stage runs), `done` (with its stats) or `already done`."""

    stage: str
    status: str
    stats: StageStats | None = None


def run_pipeline(cfg: RunConfig) -> Iterator[StageEvent]:
    """Run every stage, yielding an event before and after each, so a caller can route its output."""
    run = RunDir(cfg)
    with run_lease(run.root):
        for stage in STAGES:
            if run.stage_done(stage.name):
                yield StageEvent(stage.name, "already done")
                continue
            yield StageEvent(stage.name, "starting")
            yield StageEvent(stage.name, "done", runner(stage)(cfg))
