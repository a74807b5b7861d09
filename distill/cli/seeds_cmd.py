"""`distill seeds inspect|load`: look at seed sources, or load them into a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.cli.common import ConfigOpt, NewRunOpt, OverridesArg, VerboseOpt, load, run_console

app = typer.Typer(
    help="Inspect and load seed dialogues (EmpatheticDialogues, ESConv, PsyQA, SoulChat, chat JSONL/Parquet).",
    no_args_is_help=True,
)

FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="Seed format when TARGET is a file: auto, empathetic_dialogues, esconv, psyqa, soulchat, chat.",
    ),
]


def _turn_key(key: str) -> int:
    return int(key) if key.isdigit() else 10**9


@app.command("inspect")
def inspect(
    target: Annotated[
        str,
        typer.Argument(
            help="A seed file or folder, a bundled set ('bundled', 'bundled_qa'), or a config (file or packaged name)."
        ),
    ],
    overrides: OverridesArg = None,
    fmt: FormatOpt = "auto",
    strict: Annotated[bool, typer.Option("--strict", help="Exit non-zero if any record is malformed.")] = False,
) -> None:
    """Print counts by source, emotion, language and turns, and rejects by reason, without writing anything."""
    from rich.console import Console
    from rich.table import Table

    from distill.config import SeedSource
    from distill.seeds.reader import BUNDLED_SETS
    from distill.seeds.stage import strict_failure
    from distill.seeds.summary import summarize

    path = Path(target)
    if target in BUNDLED_SETS or (path.exists() and path.suffix.lower() not in (".yaml", ".yml")):
        cfg = load(None, overrides)
        cfg.seeds.sources = [SeedSource(path=target, format=fmt)]
    else:
        cfg = load(target, overrides)
    summary = summarize(cfg.seeds)
    stats = summary.stats
    console = Console()
    c = stats.counters
    console.print(
        f"[bold]{c['records_in']}[/] records in ({c['rows_in']} source rows): "
        f"[green]{c['records_kept']} kept[/], [red]{c['records_rejected']} rejected[/]"
    )
    for title, prefix, sort_key in (
        ("source", "source", None),
        ("emotion", "emotion", None),
        ("language", "language", None),
        ("turns", "turns", _turn_key),
        ("rejected: reason", "rejected", None),
    ):
        counts = stats.by_prefix(prefix)
        if not counts:
            continue
        table = Table(title=None, show_header=True, header_style="bold")
        table.add_column(title)
        table.add_column("count", justify="right")
        keys = sorted(counts, key=sort_key) if sort_key else sorted(counts, key=lambda k: (-counts[k], k))
        for key in keys:
            table.add_row(key, str(counts[key]))
        console.print(table)
    for reason, rejects in sorted(summary.examples.items()):
        for r in rejects:
            where = f"{r['source_file']}:{r['source_row']}" + (f" {r['field']}" if r["field"] else "")
            console.print(f"  [red]{reason}[/] {where}: {r['detail']}", soft_wrap=True, highlight=False)
    if strict and c["records_rejected"]:
        raise strict_failure([r for rs in summary.examples.values() for r in rs], total=c["records_rejected"])


@app.command("load")
def load_cmd(
    config: ConfigOpt = None,
    overrides: OverridesArg = None,
    strict: Annotated[
        bool,
        typer.Option("--strict/--no-strict", help="Fail on any malformed record (default: the config's seeds.strict)."),
    ] = None,  # type: ignore[assignment]
    new_run: NewRunOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Load the configured seeds into <run>/seeds (+ holdout/, rejects/seeds/, stats/seeds.json)."""
    from distill.cli.summaries import seeds_line
    from distill.run_dir import RunDir
    from distill.seeds.stage import load_seeds

    cfg = load(config, overrides)
    with run_console(cfg, verbose) as console:
        stats = console.run("seeds", load_seeds, cfg, strict=strict, new_run=new_run)
        console.line(f"{seeds_line(stats)} -> {RunDir(cfg).root}")
