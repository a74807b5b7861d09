"""The stages of a run, in order, and the one lifecycle every stage goes through.

A `Stage` says what the stage is: its name (the folder names under `stages/`, `stats/`, `rejects/`, the CLI command,
the `ray_jobs` module), the config sections its outputs depend on, the stages whose outputs it reads, and the outputs
it owns in the run folder. `run_stage` is the lifecycle around a stage's work: claim the run folder (an exclusive
lease),
refuse or discard outputs made under another config, skip a finished stage, prepare inputs that are made on demand,
write the stats and mark the stage done, last. The pipeline, `distill submit`, the `ray_jobs` entrypoints and the run
folder's config hashes all read `STAGES`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from distill.config import RunConfig
from distill.lease import run_lease
from distill.run_dir import RunDir
from distill.stats import StageStats, stored_stats

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    name: str
    sections: tuple[str, ...]  # the config sections this stage's own work reads
    inputs: tuple[Stage, ...] = ()  # stages whose outputs it reads (their sections count too)
    outputs: tuple[str, ...] = ()  # paths under the run folder it owns, besides stages/, stats/ and rejects/<name>
    on_demand: bool = False  # a downstream stage runs it first when it has not finished (cheap and deterministic)
    extra_sections: Callable[[RunConfig], tuple[str, ...]] | None = None  # sections that depend on the config itself

    def config_sections(self, cfg: RunConfig) -> tuple[str, ...]:
        """Every section the outputs depend on: the inputs' first (in stage order), then this stage's own."""
        picked: list[str] = []
        for upstream in self.inputs:
            picked += upstream.config_sections(cfg)
        picked += self.sections
        if self.extra_sections is not None:
            picked += self.extra_sections(cfg)
        return tuple(dict.fromkeys(picked))


def _seeds_extra(cfg: RunConfig) -> tuple[str, ...]:
    # Seeds labelled by the teacher (`seeds.infer_emotion: teacher`) would carry other labels under another teacher.
    return ("teacher",) if cfg.seeds.infer_emotion == "teacher" else ()


SEEDS = Stage(
    "seeds", ("seeds",), outputs=("seeds", "holdout", "emotion_inference"), on_demand=True, extra_sections=_seeds_extra
)
GENERATE = Stage("generate", ("teacher", "generate"), inputs=(SEEDS,), outputs=("plan", "generated"))
CURATE = Stage("curate", ("curate",), inputs=(GENERATE,), outputs=("curated", "samples", "prefs"))
TRAIN = Stage("train", ("train",), inputs=(CURATE,), outputs=("checkpoints",))
# Eval answers the held-out seeds with the trained student and the teacher; it ends by rendering report.html.
EVAL = Stage("eval", ("eval",), inputs=(SEEDS, TRAIN), outputs=("eval", "eval.json", "report.html"))

STAGES: tuple[Stage, ...] = (SEEDS, GENERATE, CURATE, TRAIN, EVAL)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)


def stage_named(name: str) -> Stage:
    for stage in STAGES:
        if stage.name == name:
            return stage
    raise KeyError(name)


def runner(stage: Stage) -> Callable[..., StageStats]:
    """The function that runs `stage` (each calls `run_stage` with its work). Imported here rather than at the top
    because every stage module imports this one; importing a stage module never imports vllm or deepspeed."""
    from distill.curate.stage import run_curate
    from distill.evaluate.stage import run_evaluate
    from distill.generate.runner import run_generate
    from distill.seeds.stage import load_seeds
    from train.stage import run_train

    runners: dict[str, Callable[..., StageStats]] = {
        SEEDS.name: load_seeds,
        GENERATE.name: run_generate,
        CURATE.name: run_curate,
        TRAIN.name: run_train,
        EVAL.name: run_evaluate,
    }
    return runners[stage.name]


@contextmanager
def claimed(stage: Stage, cfg: RunConfig, *, new_run: bool = False) -> Iterator[RunDir | None]:
    """The run folder, leased and claimed for `stage` with its on-demand inputs ready; None when it already finished.

    The lease is held for the block (re-entrant in this process, so an on-demand input runs inside it). Outputs made
    under another config are refused, or discarded when `new_run`.
    """
    run = RunDir(cfg)
    with run_lease(run.root):
        if not run.claim_stage(stage, new_run=new_run):
            yield None
            return
        for upstream in stage.inputs:
            if upstream.on_demand and not run.stage_done(upstream.name):
                runner(upstream)(cfg)
        yield run


def finish(stage: Stage, run: RunDir, stats: StageStats) -> StageStats:
    """Write the stage's stats, then mark it done: the marker is last, so a crash before it leaves the stage to
    resume."""
    stats.write(run.root)
    run.finish_stage(stage.name)
    return stats


def run_stage(
    stage: Stage, cfg: RunConfig, work: Callable[..., StageStats], *, new_run: bool = False, **kwargs: Any
) -> StageStats:
    """Run `work(cfg, run, **kwargs)` as `stage` of cfg's run folder, once: the lifecycle every stage shares.

    A finished stage is not redone: its stored stats are returned.
    """
    with claimed(stage, cfg, new_run=new_run) as run:
        if run is None:
            log.info("%s already done in %s", stage.name, cfg.run_dir)
            return stored_stats(cfg.run_dir, stage.name)
        return finish(stage, run, work(cfg, run, **kwargs))
