"""`distill generate`: synthesize dialogues from the run's seeds with the configured teacher (resumable)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from distill.cli.common import ConfigOpt, NewRunOpt, OverridesArg, VerboseOpt, load, run_console

ExportOpt = Annotated[
    Path | None,
    typer.Option(
        "--export-requests",
        help="Write the requests the episodes need next (round 0 on a fresh run) as OpenAI batch JSONL to FILE and "
        "stop. "
        "Needs teacher.backend=openai_batch; past its batch limits the files are named FILE-001.jsonl, FILE-002.jsonl, "
        "...",
    ),
]
ImportOpt = Annotated[
    Path | None,
    typer.Option(
        "--import-results",
        help="Bring a batch output (or error) file's answers into the run: each import advances the episodes one round "
        "and "
        "writes the unit batches that ended; export again for the next round.",
    ),
]


def generate(
    config: ConfigOpt = None,
    overrides: OverridesArg = None,
    new_run: NewRunOpt = False,
    verbose: VerboseOpt = False,
    export_requests: ExportOpt = None,
    import_results: ImportOpt = None,
) -> None:
    """Plan work units from the seeds, run them through the teacher (Ray actors or an endpoint), write generated/.

    Rerunning the same command resumes: finished unit batches are skipped, none is written twice. With
    --export-requests / --import-results the teacher is any batch runner, round by round.
    """
    from distill.cli.summaries import generate_line
    from distill.generate import run_generate

    cfg = load(config, overrides)
    if export_requests is not None or import_results is not None:
        from distill.cli.batch_files_cmd import batch_files

        return batch_files(cfg, export_requests, import_results)
    with run_console(cfg, verbose) as console:
        stats = console.run("generate", run_generate, cfg, new_run=new_run)
        console.line(generate_line(stats))
        console.line(f"output: {cfg.run_dir / 'generated'}   stats: {cfg.run_dir / 'stats' / 'generate.json'}")
