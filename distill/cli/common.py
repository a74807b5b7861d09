"""Options shared by the stage commands."""

from __future__ import annotations

from typing import Annotated

import typer

from distill.config import RunConfig, load_config

ConfigOpt = Annotated[
    str | None,
    typer.Option("--config", "-c", help="YAML config file, or the name of a packaged config (demo, cpu, ...)."),
]
OverridesArg = Annotated[
    list[str] | None,
    typer.Argument(help="key=value overrides applied on top of the config, e.g. generate.variants_per_seed=4", show_default=False),
]
NewRunOpt = Annotated[bool, typer.Option("--new-run", help="Discard this stage's outputs if they were made with another config.")]


def load(config: str | None, overrides: list[str] | None) -> RunConfig:
    return load_config(config, overrides or [])
