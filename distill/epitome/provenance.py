"""Which empathy scorer a run used and how well it agrees with people, for the dataset card and the report.

Figures come from, in order: `curate.epitome_validation` (a `distill scorers validate --json` file the user names),
the classifier folder's `validation.json` (written by `validate --model`, with how many of its pairs the model trained
on), its `metrics.json` (the fit's own held-out split). None of them is a guess: when no validation was run, the card
says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distill.epitome import MECHANISMS
from distill.epitome.agreement import FIGURES

if TYPE_CHECKING:
    from distill.config import RunConfig


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _figures(result: dict[str, Any]) -> dict[str, dict[str, float]]:
    return {m: {k: result[m][k] for k in FIGURES} for m in MECHANISMS if isinstance(result.get(m), dict)}


def empathy_provenance(cfg: RunConfig) -> dict[str, Any]:
    """{scorer, model?, validation?: {source, rows, figures}} for the EPITOME scorer in `curate.scorers`."""
    scorers = cfg.curate.scorers
    scorer = next((s for s in scorers if s in ("epitome_classifier", "epitome_lexical")), None)
    out: dict[str, Any] = {"scorer": scorer}
    candidates: list[tuple[str, Path, str | None]] = []
    if cfg.curate.epitome_validation:
        candidates.append((cfg.curate.epitome_validation, Path(cfg.curate.epitome_validation), None))
    if scorer == "epitome_classifier" and cfg.curate.epitome_model:
        model = Path(cfg.curate.epitome_model)
        out["model"] = str(model)
        meta = _read(model / "epitome.json") or {}
        if meta.get("data"):
            out["model_data_blake2b"] = meta["data"].get("blake2b")
        candidates.append(("validation.json beside the model", model / "validation.json", None))
        candidates.append(("the fit's held-out split (metrics.json)", model / "metrics.json", "held_out"))
    for source, path, key in candidates:
        result = _read(path)
        if result is not None and key is not None:  # metrics.json: the held-out figures are one key of it
            intervals = result.get(f"{key}_intervals")
            rows = result.get("held_out_rows")
            result = result.get(key)
            if isinstance(result, dict):
                result = {**result, "rows": rows, "intervals": intervals}
        if isinstance(result, dict) and _figures(result):
            v = out["validation"] = {"source": source, "rows": result.get("rows"), "figures": _figures(result)}
            if isinstance(result.get("intervals"), dict):
                v["intervals"] = result["intervals"]
            if isinstance(result.get("scoring"), dict):
                v["scoring"] = result["scoring"]
            if "trained_on" in result:  # validate --model wrote it; None: the folder does not list its pairs
                v["trained_on"] = result["trained_on"]
            break
    return out


def scoring_phrase(scoring: dict[str, Any]) -> str:
    """'scored on cpu in bf16': where a validation's model ran and in which number format (`quantize=none` is fp32 on
    a CPU and bf16 on a GPU)."""
    weights = scoring.get("quantize")
    if weights == "none":
        weights = "bf16" if scoring.get("device") == "cuda" else "fp32"
    return f"scored on {scoring.get('device')} in {weights}"


def trained_on_phrase(trained_on: int | None, rows: int | None) -> str:
    """What a validation's figures are worth, by how many of its pairs the model trained on (a sentence, no stop)."""
    if trained_on is None:
        return "The model folder does not list the pairs it trained on: make sure these were not among them"
    if trained_on == 0:
        return "None of these pairs is in the model's training split"
    return (
        f"{trained_on} of these {rows or '?'} pairs are in the model's training split: the figures overstate its "
        "agreement on pairs it never saw"
    )


def figure_cell(figure: float, interval: list[float] | None = None) -> str:
    """'0.743 (0.71-0.77)': a figure and, when known, its interval."""
    return f"{figure:.3f}" + (f" ({interval[0]:.2f}-{interval[1]:.2f})" if interval else "")


def intervals_phrase(intervals: dict[str, Any] | None, lead: str = "In brackets") -> str | None:
    """What the intervals shown `lead` are (a sentence, no stop); None when there are none."""
    if not intervals or not any(isinstance(intervals.get(m), dict) for m in MECHANISMS):
        return None
    return (
        f"{lead}: its {intervals['confidence']:.0%} interval ({intervals['method']}, {intervals['resamples']} "
        "resamples), how far it could move on another sample of as many pairs"
    )


def figures_markdown(figures: dict[str, Any], intervals: dict[str, Any] | None = None) -> str:
    """The per-mechanism table of a model card, a dataset card or the report; with `intervals`
    (`agreement_intervals`), each figure followed by its interval and a line saying what that is."""
    intervals = intervals or {}
    lines = ["| mechanism | accuracy | macro-F1 | Spearman |", "|---|---|---|---|"]
    for m in MECHANISMS:
        if isinstance(figures.get(m), dict):
            f, spans = figures[m], intervals.get(m) or {}
            cells = " | ".join(figure_cell(f[key], spans.get(key)) for key in FIGURES)
            lines.append(f"| {m.replace('_', ' ')} | {cells} |")
    phrase = intervals_phrase(intervals)
    if phrase:
        lines += ["", f"{phrase}."]
    return "\n".join(lines)


def provenance_markdown(p: dict[str, Any]) -> str:
    if not p.get("scorer"):
        return "No EPITOME scorer ran in curation."
    lines = [f"Scorer: `{p['scorer']}`" + (f", model `{p['model']}`" if p.get("model") else "") + "."]
    v = p.get("validation")
    if not v:
        lines.append(
            "No validation against human labels was recorded for it: run `distill scorers validate` and set "
            "`curate.epitome_validation` (or validate the model folder) to have its figures here."
        )
        return "\n".join(lines)
    scoring = v.get("scoring")
    path = f", {scoring_phrase(scoring)}" if scoring else ""
    lines += [f"Agreement with human EPITOME labels ({v['source']}, {v.get('rows') or '?'} pairs{path}):", ""]
    lines.append(figures_markdown(v["figures"], v.get("intervals")))
    if "trained_on" in v:
        lines += ["", f"{trained_on_phrase(v['trained_on'], v.get('rows'))}."]
    return "\n".join(lines)
