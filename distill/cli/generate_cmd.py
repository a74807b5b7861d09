"""`distill generate`: synthesize dialogues from the run's seeds with the configured teacher (resumable)."""

from __future__ import annotations

from distill.cli.common import ConfigOpt, NewRunOpt, OverridesArg, load


def generate(config: ConfigOpt = None, overrides: OverridesArg = None, new_run: NewRunOpt = False) -> None:
    """Plan work units from the seeds, run them through the teacher (Ray actors or an endpoint), write generated/.

    Rerunning the same command resumes: finished unit batches are skipped, none is written twice.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from distill.generate import run_generate

    cfg = load(config, overrides)
    console = Console(stderr=True)
    bar = Progress(
        TextColumn("generate"), BarColumn(), MofNCompleteColumn(), TextColumn("units"), TimeElapsedColumn(), TimeRemainingColumn(), console=console
    )
    task = bar.add_task("units", total=None)

    def progress(done: int, total: int) -> None:
        bar.start()  # on the first report only (a no-op after), so a refused run prints its one-line error alone
        bar.update(task, completed=done, total=total)

    try:
        stats = run_generate(cfg, new_run=new_run, progress=progress)
    finally:
        bar.stop()
    c = stats.counters
    rate = stats.info.get("this_invocation", {}).get("completion_tokens_per_s")
    console.print(
        f"[bold]{c['units_planned']}[/] units: [green]{c['dialogues']} dialogues[/] ({c['samples']} samples), "
        f"[red]{c['rejected']} rejected[/] {dict(stats.by_prefix('rejected'))}; "
        f"{c['tokens/completion']} completion tokens ({rate} tok/s), est. cost ${stats.info.get('estimated_cost_usd', 0):.4f}"
    )
    console.print(f"output: {cfg.run_dir / 'generated'}   stats: {cfg.run_dir / 'stats' / 'generate.json'}", soft_wrap=True)  # paths stay whole for copying
