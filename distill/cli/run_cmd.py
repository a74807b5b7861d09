"""`distill run`: every stage in order in one run folder, skipping stages that are already done."""

from __future__ import annotations

from contextlib import ExitStack

from distill.cli.common import ConfigOpt, OverridesArg, VerboseOpt, load
from distill.cli.console import RunConsole
from distill.config import RunConfig


def run(config: ConfigOpt = None, overrides: OverridesArg = None, verbose: VerboseOpt = False) -> None:
    """Seeds -> generate -> curate -> train -> eval (ending with the report), resumable; prints progress, a summary per
    stage
    and where the outputs are. Engine and library output goes to <run>/logs/<stage>.log (--verbose: the terminal)."""
    from distill.run_dir import RunDir

    cfg = load(config, overrides)
    with RunConsole(RunDir(cfg).path("logs"), verbose=verbose) as console:
        drive_pipeline(cfg, console)


def drive_pipeline(cfg: RunConfig, console: RunConsole) -> None:
    """The pipeline with each stage's output in its log, one summary line per stage, then the funnel and the outputs."""
    from distill.cli.summaries import funnel_line, output_lines, stage_line
    from distill.pipeline import run_pipeline
    from distill.run_dir import RunDir
    from distill.stats import stored_stats

    run = RunDir(cfg)
    with ExitStack() as running:
        for event in run_pipeline(cfg):
            if event.status == "starting":
                running.enter_context(console.stage(event.stage))  # left when the stage's "done" arrives
            elif event.status == "done":
                running.close()
                console.line(stage_line(event.stage, event.stats or stored_stats(run.root, event.stage), run))
            else:
                console.line(f"{event.stage}: already done")
    console.line(funnel_line(run))
    for line in output_lines(run):
        console.line(line)
