"""`distill scorers fit | validate | label`: EPITOME empathy scorers fitted on labels and measured against people."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from distill.cli.common import ConfigOpt, OverridesArg, load

app = typer.Typer(
    help="Empathy scorers: fit an EPITOME classifier, validate any scorer against human labels, label with a judge."
)

DataOpt = Annotated[
    Path, typer.Option("--data", help="Folder of EPITOME-format CSVs (emotional-reactions-reddit.csv, ...).")
]


def _quiet_model_loading() -> None:
    """transformers' load reports (a fresh head is expected here) and weight bars would bury our progress line."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()


def _progress_bar(description: str) -> tuple[Any, Any]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn(f"[bold]{description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        transient=False,
    )
    task = bar.add_task(description, total=None, loss=0.0)

    def update(done: int, total: int, loss: float) -> None:
        bar.update(task, completed=done, total=total, loss=loss)

    return bar, update


def figures_table(result: dict[str, Any], title: str, intervals: dict[str, Any] | None = None) -> Any:
    """Per-mechanism figures; with `intervals` (agreement_intervals), each interval under its figure (beside it, the
    table would not fit 80 columns)."""
    from rich.table import Table

    from distill.epitome import MECHANISMS
    from distill.epitome.agreement import FIGURES

    table = Table(title=title)
    for column in ("mechanism", "accuracy", "macro-F1", "Spearman", "pairs"):
        table.add_column(column, justify="left" if column == "mechanism" else "right")
    for m in MECHANISMS:
        if m in result:
            r, spans = result[m], (intervals or {}).get(m) or {}
            pairs = sum(sum(row) for row in r["confusion"])
            cells = [
                f"{r[k]:.3f}" + (f"\n[dim]{spans[k][0]:.2f}-{spans[k][1]:.2f}[/dim]" if k in spans else "")
                for k in FIGURES
            ]
            table.add_row(m.replace("_", " "), *cells, str(pairs))
    return table


@app.command("fit")
def fit_command(
    data: DataOpt,
    out: Annotated[
        Path,
        typer.Option("--out", help="New folder for the model (HF format, safetensors) + metrics.json + README.md."),
    ],
    base: Annotated[
        str, typer.Option("--base", help="Encoder: 'minilm' (bundled, offline) or a local HF encoder folder.")
    ] = "minilm",
    overrides: OverridesArg = None,
) -> None:
    """Fine-tune an encoder on EPITOME labels (all three mechanisms, one multi-task model).

    key=value settings: epochs, lr, batch_size, max_length, class_weights (none|balanced|sqrt), holdout_fraction, seed,
    device (auto|cpu|cuda), threads, mechanisms.
    """
    from rich.console import Console

    from distill.epitome.fit import fit, fit_config

    cfg = fit_config(overrides)
    _quiet_model_loading()
    bar, update = _progress_bar("fit")
    with bar:
        metrics = fit(data, out, base=base, config=cfg, progress=update)
    console = Console()
    if metrics["held_out"]:
        console.print(
            figures_table(
                metrics["held_out"],
                f"held-out split ({metrics['held_out_rows']} pairs), epoch {metrics['epoch_chosen']}",
                metrics.get("held_out_intervals"),
            )
        )
    console.print(
        f"model: {out}  ({metrics['fit_seconds']} s on {metrics['device']}); next: distill scorers validate --data DIR "
        f"--model {out}"
    )


@app.command("validate")
def validate_command(
    data: DataOpt,
    json_out: Annotated[
        Path,
        typer.Option("--json", help="Write the figures here (per mechanism: accuracy, macro_f1, spearman, confusion)."),
    ],
    model: Annotated[str | None, typer.Option("--model", help="A folder written by `distill scorers fit`.")] = None,
    scorer: Annotated[
        str | None, typer.Option("--scorer", help="epitome_lexical | llm_judge (the judge uses --config's teacher).")
    ] = None,
    config: ConfigOpt = None,
    overrides: OverridesArg = None,
) -> None:
    """Measure a scorer against human EPITOME labels: per mechanism accuracy, macro-F1, Spearman, confusion."""
    from rich.console import Console

    from distill.epitome.provenance import intervals_phrase, scoring_phrase, trained_on_phrase
    from distill.epitome.validate import validate
    from distill.errors import ConfigError

    if (model is None) == (scorer is None):
        raise ConfigError("give exactly one of --model DIR or --scorer NAME")
    _quiet_model_loading()
    cfg = load(config, overrides) if scorer == "llm_judge" or model is not None else None
    result, kept = validate(data, json_out, model=model, scorer=scorer, cfg=cfg)
    console = Console()
    intervals = kept["intervals"]
    console.print(figures_table(result, f"{result['scorer']} vs human labels ({result['rows']} pairs)", intervals))
    phrase = intervals_phrase(intervals, lead="Under each figure")
    if phrase:
        console.print(phrase)
    if model is not None:
        console.print(
            f"{scoring_phrase(kept['scoring'])}: the path a curate run with this config takes (curate.epitome_quantize)"
        )
        style = "yellow" if kept["trained_on"] != 0 else None  # figures on trained-on (or unknown) pairs mislead
        console.print(trained_on_phrase(kept["trained_on"], result["rows"]), style=style)
    console.print(f"wrote {json_out}")


@app.command("label")
def label_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for the EPITOME-format CSVs the judge writes.")],
    sample: Annotated[
        int, typer.Option("--sample", min=1, help="Supporter turns to label (a deterministic sample).")
    ] = 2000,
    source: Annotated[
        str, typer.Option("--source", help="Run sub-folder to sample from: curated or generated.")
    ] = "curated",
    seed: Annotated[int, typer.Option("--seed", help="Sampling seed.")] = 0,
    config: ConfigOpt = None,
    overrides: OverridesArg = None,
) -> None:
    """Have the LLM judge label a sample of a run's own supporter turns with the EPITOME rubric (for `fit`)."""
    from distill.epitome.label import run_label

    stats = run_label(load(config, overrides), out=out, sample=sample, source=source, seed=seed)
    typer.echo(json.dumps(stats, indent=2, sort_keys=True))
