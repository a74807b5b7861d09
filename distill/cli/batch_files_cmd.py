"""`distill generate --export-requests FILE | --import-results FILE`: the generate stage round by round through any
batch
runner (the work is in `distill.generate.batch_files`; this prints what happened and what to do next)."""

from __future__ import annotations

from pathlib import Path

import typer

from distill.config import RunConfig
from distill.errors import ConfigError


def batch_files(cfg: RunConfig, export_to: Path | None, import_from: Path | None) -> None:
    from distill.generate.batch_files import export_requests, import_results

    if export_to is not None and import_from is not None:
        raise ConfigError(
            "--export-requests and --import-results go in separate commands: import the answers first, then export the "
            "next round"
        )
    if import_from is not None:
        counts, state = import_results(cfg, import_from)
        typer.echo(
            f"{import_from}: {counts['batch_api/import_lines']} lines, {counts['batch_api/import_answered']} answers, "
            f"{counts['batch_api/import_failed']} failed (rejects), {counts['batch_api/import_retry']} to send again, "
            f"{counts['batch_api/import_not_waiting'] + counts['batch_api/import_duplicate']} not waited for; "
            f"{state.batches_written} unit batches written, {state.batches_done} of {state.batches_planned} done",
            err=True,
        )
        if state.stats is not None:
            c = state.stats.counters
            typer.echo(
                f"generate done: {c['dialogues']} dialogues, {c['rejected']} rejected; stats: "
                f"{cfg.run_dir / 'stats' / 'generate.json'}",
                err=True,
            )
        else:
            typer.echo(
                f"{len(state.waiting)} requests wait for the next round: run `distill generate --export-requests FILE` "
                "again",
                err=True,
            )
        return
    assert export_to is not None
    paths, state = export_requests(cfg, export_to)
    if state.in_flight:
        typer.echo(
            f"{state.in_flight} requests are in batches `distill generate` submitted (not exported): rerun it to "
            "collect them",
            err=True,
        )
    if paths:
        typer.echo(
            f"{len(state.waiting)} requests in {', '.join(map(str, paths))}: run them as OpenAI batches, then `distill "
            "generate --import-results OUTPUT.jsonl`",
            err=True,
        )
    elif not state.in_flight:
        typer.echo("nothing to export: every unit batch is done", err=True)
