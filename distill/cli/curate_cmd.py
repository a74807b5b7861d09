"""`distill curate`: filter, score and deduplicate the generated dialogues; write curated/, samples/, prefs/ and the card."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.cli.common import ConfigOpt, NewRunOpt, OverridesArg, load

ExportOpt = Annotated[
    Path | None,
    typer.Option(
        "--export-soulchat", help="Also write the sample windows as SoulChat JSONL ({input: 用户：/心理咨询师： transcript, target}) to this file."
    ),
]


def curate(config: ConfigOpt = None, overrides: OverridesArg = None, new_run: NewRunOpt = False, export_soulchat: ExportOpt = None) -> None:
    """Heuristic + safety filters, empathy scorers, global dedup (exact, MinHash, semantic), sample windows, preference pairs.

    Rejects go to rejects/curate/ with their reason; counts to stats/curate.json; a dataset card to dataset_card.md.
    Rerunning a finished stage does nothing (use --export-soulchat on it to export again).
    """
    from rich.console import Console

    from distill.curate import run_curate
    from distill.curate.windows import export_soulchat as export
    from distill.run_dir import RunDir

    cfg = load(config, overrides)
    stats = run_curate(cfg, new_run=new_run)
    c = stats.counters
    console = Console(stderr=True)
    console.print(
        f"[bold]{c['dialogues_in']}[/] dialogues in: [green]{c['curated']} curated[/] ({c['samples']} samples, "
        f"{c['preference_pairs']} preference pairs), [red]{c['rejected']} rejected[/]"
    )
    for reason, n in sorted(stats.by_prefix("dropped").items(), key=lambda kv: -kv[1]):
        console.print(f"  dropped {reason}: {n}", highlight=False)
    run = RunDir(cfg)
    console.print(f"output: {run.curated}   card: {run.path('dataset_card.md')}   stats: {run.path('stats', 'curate.json')}", soft_wrap=True)  # paths stay whole for copying
    if export_soulchat is not None:
        n = export(run.samples, export_soulchat)
        console.print(f"soulchat: {n} samples -> {export_soulchat}", soft_wrap=True)
