"""`distill config show`: print the resolved config (file + overrides + defaults)."""

from __future__ import annotations

import typer

from distill.cli.common import ConfigOpt, OverridesArg, load
from distill.config import dump_config

app = typer.Typer(help="Inspect configs.", no_args_is_help=True)


@app.command("show")
def show(config: ConfigOpt = None, overrides: OverridesArg = None) -> None:
    """Print the fully resolved config and its hash."""
    cfg = load(config, overrides)
    typer.echo(f"# config hash {cfg.stage_hash()}")
    typer.echo(dump_config(cfg), nl=False)
