"""Options shared by the stage commands."""

from __future__ import annotations

from typing import Annotated

import typer

from distill.cli.console import RunConsole
from distill.config import RunConfig, load_config

ConfigOpt = Annotated[
    str | None,
    typer.Option("--config", "-c", help="YAML config file, or the name of a packaged config (demo, cpu, ...)."),
]
OverridesArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="key=value overrides applied on top of the config, e.g. generate.variants_per_seed=4", show_default=False
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", help="Show engine and library output on the terminal instead of only in <run>/logs/."
    ),
]
NewRunOpt = Annotated[
    bool, typer.Option("--new-run", help="Discard this stage's outputs if they were made with another config.")
]


def run_console(cfg: RunConfig, verbose: bool) -> RunConsole:
    """The console of a command working on this run: `console.run(stage, fn, ...)` keeps engine output in
    <run>/logs/<stage>.log and shows the stage's progress; `console.line(...)` prints the summary."""
    from distill.run_dir import RunDir

    return RunConsole(RunDir(cfg).path("logs"), verbose=verbose)


def load(config: str | None, overrides: list[str] | None) -> RunConfig:
    return load_config(config, overrides or [])
