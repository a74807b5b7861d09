"""`distill curate`: filter, score and deduplicate the generated dialogues; write curated/, samples/, prefs/ and the
card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.cli.common import ConfigOpt, NewRunOpt, OverridesArg, VerboseOpt, load, run_console

ExportOpt = Annotated[
    Path | None,
    typer.Option(
        "--export-soulchat",
        help="Also write the sample windows as SoulChat JSONL ({input: 用户：/心理咨询师： transcript, target}) to "
        "this "
        "file.",
    ),
]


def curate(
    config: ConfigOpt = None,
    overrides: OverridesArg = None,
    new_run: NewRunOpt = False,
    export_soulchat: ExportOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Heuristic + safety filters, empathy scorers, global dedup (exact, MinHash, semantic), sample windows, preference
    pairs.

    Rejects go to rejects/curate/ with their reason; counts to stats/curate.json; a dataset card to dataset_card.md.
    Rerunning a finished stage does nothing (use --export-soulchat on it to export again).
    """
    from distill.cli.summaries import curate_line
    from distill.curate import run_curate
    from distill.curate.windows import export_soulchat as export
    from distill.run_dir import RunDir

    cfg = load(config, overrides)
    run = RunDir(cfg)
    with run_console(cfg, verbose) as console:
        stats = console.run("curate", run_curate, cfg, new_run=new_run)
        console.line(curate_line(stats))
        console.line(
            f"output: {run.curated}   card: {run.path('dataset_card.md')}   stats: {run.path('stats', 'curate.json')}"
        )
        if export_soulchat is not None:
            n = export(run.samples, export_soulchat)
            console.line(f"soulchat: {n} samples -> {export_soulchat}")
