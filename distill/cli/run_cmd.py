"""`distill run`: every stage in order in one run folder, skipping stages that are already done."""

from __future__ import annotations

import typer

from distill.cli.common import ConfigOpt, OverridesArg, load


def run(config: ConfigOpt = None, overrides: OverridesArg = None) -> None:
    """Seeds -> generate -> curate -> train -> evaluate -> report, resumable; prints where the outputs are."""
    from distill.pipeline import run_pipeline

    cfg = load(config, overrides)
    for line in run_pipeline(cfg):
        typer.echo(line)
