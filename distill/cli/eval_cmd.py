"""`distill eval --config X` and `distill report <run_dir>`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.cli.common import ConfigOpt, NewRunOpt, OverridesArg, VerboseOpt, load, run_console


def eval_(
    config: ConfigOpt = None, overrides: OverridesArg = None, new_run: NewRunOpt = False, verbose: VerboseOpt = False
) -> None:
    """Answer held-out prompts with the base student, the distilled student and the teacher; judge and score them into
    eval.json (+ report.html)."""
    from distill.cli.summaries import eval_line
    from distill.evaluate import run_evaluate
    from distill.run_dir import RunDir

    cfg = load(config, overrides)
    run = RunDir(cfg)
    with run_console(cfg, verbose) as console:
        stats = console.run("eval", run_evaluate, cfg, new_run=new_run)
        console.line(eval_line(stats, run))
        console.line(
            f"eval.json: {run.path('eval.json')}" + (f"   report: {run.path('report.html')}" if cfg.eval.report else "")
        )


def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder, e.g. runs/demo.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Where to write the page (default: <run_dir>/report.html).")
    ] = None,
) -> None:
    """Write report.html for a run folder: dataset, funnel, lengths, scores, loss curve, per-emotion evaluation,
    examples."""
    from distill.report import build_report

    typer.echo(str(build_report(run_dir, out)))
