"""The whole run in one call: seeds -> generate -> curate -> train -> evaluate -> report.

Each stage is resumable and skipped when its stage marker says done. Stages that are not part of this
installation yet are reported as skipped rather than failing the run. Stage modules are imported
lazily so that `distill` itself never imports deepspeed or vllm at import time.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from distill.config import RunConfig
from distill.run_dir import RunDir
from distill.stats import StageStats

log = logging.getLogger(__name__)

# (stage, module, function): each function takes the RunConfig and runs its stage to completion.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("seeds", "distill.seeds.stage", "load_seeds"),
    ("generate", "distill.generate", "run_generate"),
    ("curate", "distill.curate", "run_curate"),
    ("train", "train", "run_train"),
    ("eval", "distill.evaluate", "run_evaluate"),
)


def _stage_function(module: str, name: str) -> Callable[[RunConfig], object] | None:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return None  # the stage is not in this installation
        raise
    return getattr(mod, name, None)


@dataclass(frozen=True)
class StageEvent:
    """`starting` (before the stage runs), `done` (with its stats), `already done`, or `unavailable` (the run stops)."""

    stage: str
    status: str
    stats: StageStats | None = None


def run_pipeline(cfg: RunConfig) -> Iterator[StageEvent]:
    """Run every available stage, yielding an event before and after each, so a caller can route its output."""
    run = RunDir(cfg)
    for stage, module, name in STAGES:
        if run.stage_done(stage):
            yield StageEvent(stage, "already done")
            continue
        fn = _stage_function(module, name)
        if fn is None:
            # Later stages read this one's outputs, so the run stops here rather than fail downstream.
            yield StageEvent(stage, "unavailable")
            break
        yield StageEvent(stage, "starting")
        stats = fn(cfg)
        yield StageEvent(stage, "done", stats if isinstance(stats, StageStats) else None)
