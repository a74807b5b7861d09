"""`build_report(run_dir)`: every section of report.html from whatever the run folder holds.

Each section reads its own inputs; a missing input becomes a visible note in that section, and a section that
fails to render is replaced by a note with the error (logged with its traceback), so one odd file never costs
the whole report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from distill.atomic import atomic_write_text
from distill.emotions import EMOTIONS
from distill.epitome.agreement import FIGURES
from distill.epitome.provenance import figure_cell, intervals_phrase, scoring_phrase, trained_on_phrase
from distill.report import plots
from distill.report.inputs import DatasetSummary, dropped_by_reason, funnel_steps, loss_curve, read_dataset, read_json
from distill.report.page import document, image, missing, table, turns

log = logging.getLogger(__name__)

MAX_SCORE_PLOTS = 8
_SUMMARY_METRICS = (
    ("words", "scores", "words"),
    ("distinct-1", "diversity", "distinct_1"),
    ("distinct-2", "diversity", "distinct_2"),
    ("unique openings", "diversity", "unique_openings"),
    ("BERTScore F1", "scores", "bertscore_f1"),
    ("EPITOME ER", "scores", "epitome_er"),
    ("EPITOME IP", "scores", "epitome_ip"),
    ("EPITOME EX", "scores", "epitome_ex"),
    ("diff-EPITOME ER", "scores", "diff_epitome_er"),
    ("diff-EPITOME IP", "scores", "diff_epitome_ip"),
    ("diff-EPITOME EX", "scores", "diff_epitome_ex"),
    ("VADER compound", "scores", "vader_compound"),
    ("VADER shift", "scores", "vader_shift"),
    ("CEHS content", "scores", "cehs_content"),
    ("CEHS empathy", "scores", "cehs_empathy"),
    ("CEHS helpfulness", "scores", "cehs_helpfulness"),
    ("CEHS safety", "scores", "cehs_safety"),
)


def _evaluated(ev: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in (ev.get("systems") or {}).items() if s.get("status") == "evaluated"}


def eval_summary(run_dir: Path, ev: dict[str, Any] | None, ds: DatasetSummary | None) -> str:
    if ev is None:
        return missing(f"No evaluation yet ({run_dir / 'eval.json'} is missing): run `distill eval --config <config>`.")
    systems = ev.get("systems") or {}
    notes = "".join(
        missing(f"{name}: not evaluated — {s.get('note')}")
        for name, s in systems.items()
        if s.get("status") != "evaluated"
    )
    evaluated = _evaluated(ev)
    if not evaluated:
        return notes + missing("No system produced responses.")
    judge = ev.get("judge")
    judged = (
        f"judge {judge['backend']}/{judge['model']}, rubric {judge['rubric_version']}"
        if judge
        else "no LLM judge (eval.judge is off)"
    )
    head = f"<p>{ev.get('prompts')} held-out prompts (of {ev.get('holdout_seeds')} held-out seeds); {judged}.</p>"
    rows = []
    for name, s in evaluated.items():
        r = s["judge"]["empathy_rating"]
        rows.append([name, s.get("model"), s["responses"], sum(s.get("rejected", {}).values()), s.get("truncated"),
                     r.get("good_share"), r.get("okay_share"), r.get("bad_share"), r.get("failed")])  # fmt: skip
    ratings = table(
        ["system", "model", "responses", "rejected", "truncated", "Good", "Okay", "Bad", "judge failed"], rows
    )
    metric_rows = [
        [label, *[(s.get(group) or {}).get(key) for s in evaluated.values()]] for label, group, key in _SUMMARY_METRICS
    ]
    metric_rows = [row for row in metric_rows if any(v is not None for v in row[1:])]  # metrics that were switched off
    metrics = table(["metric (mean)", *evaluated], metric_rows)
    failures = {
        f"{name}: {reason}": n
        for name, s in evaluated.items()
        for reason, n in s["judge"]["empathy_rating"]["failed_reasons"].items()
    }
    fail_note = table(["system: judge failure", "count"], sorted(failures.items())) if failures else ""
    return notes + head + ratings + metrics + fail_note


def per_emotion(ev: dict[str, Any] | None) -> str:
    if ev is None or not _evaluated(ev):
        return missing("No evaluation results to break down per emotion.")
    evaluated = _evaluated(ev)
    if ev.get("judge") is None:
        return missing("The LLM judge was off (eval.judge: false), so there are no Good/Okay/Bad ratings.")
    parts = []
    for key, title in (
        ("per_emotion", "Good / Okay / Bad per emotion"),
        ("per_polarity", "Good / Okay / Bad per polarity"),
    ):
        groups: dict[str, dict[str, Any]] = {}
        for name, s in evaluated.items():
            for group, counts in (s.get(key) or {}).items():
                groups.setdefault(group, {})[name] = counts
        if groups:
            parts.append(image(plots.rating_bars(groups, title), title))
            parts.append(_rating_table(groups, list(evaluated), key.removeprefix("per_")))
    absent = sorted(set(EMOTIONS) - {g for s in evaluated.values() for g in (s.get("per_emotion") or {})})
    if absent:
        parts.append(f'<p class="meta">No held-out prompt for: {", ".join(absent)}.</p>')
    means = {name: s.get("scores") or {} for name, s in evaluated.items()}
    keys = [
        k
        for k in (
            "epitome_er",
            "epitome_ip",
            "epitome_ex",
            "diff_epitome_er",
            "diff_epitome_ip",
            "diff_epitome_ex",
            "bertscore_f1",
            "cehs_content",
            "cehs_empathy",
            "cehs_helpfulness",
            "cehs_safety",
        )
        if any(m.get(k) is not None for m in means.values())
    ]
    if keys:
        parts.append(image(plots.grouped_means(means, keys, "Mean scores per system"), "mean scores per system"))
    return "".join(parts)


def _rating_table(groups: dict[str, dict[str, Any]], systems: list[str], label: str) -> str:
    """Good / Okay / Bad shares per group and system, with n, for readers who want the numbers behind the bars."""
    header = [label, "n", *[f"{s} G/O/B" for s in systems], *[f"{s} failed" for s in systems]]
    rows = []
    for group in sorted(groups):
        by = groups[group]
        n = max((c.get("n") or 0) for c in by.values())
        shares = [
            "/".join(
                f"{by[s].get(k + '_share'):.2f}" if by.get(s, {}).get(k + "_share") is not None else "–"
                for k in ("good", "okay", "bad")
            )
            for s in systems
        ]
        rows.append([group, n, *shares, *[by.get(s, {}).get("failed") for s in systems]])
    return table(header, rows)


def dataset_distributions(ds: DatasetSummary | None) -> str:
    if ds is None:
        return missing("No dataset yet (no shards in curated/ or generated/).")
    parts = [
        f"<p>{ds.dialogues} dialogues in {ds.folder}/ "
        f"({', '.join(f'{k}: {v}' for k, v in ds.modes.most_common())}).</p>"
    ]
    parts.append(image(plots.bar_counts(dict(ds.emotions), "Emotions", "dialogues"), "emotion distribution"))
    if ds.strategies:
        parts.append(
            image(
                plots.bar_counts(dict(ds.strategies), "Planned support strategies", "dialogues", "#27ae60"),
                "strategy distribution",
            )
        )
    else:
        parts.append(missing("No planned strategies recorded in the dataset."))
    return "".join(parts)


def filter_funnel(run_dir: Path) -> str:
    curate = read_json(run_dir / "stats" / "curate.json")
    if curate is None:
        return missing(f"No curation stats ({run_dir / 'stats' / 'curate.json'} is missing): run `distill curate`.")
    steps = funnel_steps(curate, read_json(run_dir / "stats" / "seeds.json"))
    if not steps:
        return missing("stats/curate.json has no funnel counters.")
    parts = [
        image(plots.funnel(steps, "Curation funnel"), "filter funnel"),
        table(["step", "records"], [[s, int(v)] for s, v in steps]),
    ]
    dropped = dropped_by_reason(curate)
    if dropped:
        parts.append(
            image(plots.bar_counts(dropped, "Dropped, by filter and reason", "dialogues", "#eb5757"), "drops by reason")
        )
    return "".join(parts)


def empathy_scorer(run_dir: Path) -> str:
    """The EPITOME scorer curation used and its agreement with human labels (what every empathy number rests on)."""
    curate = read_json(run_dir / "stats" / "curate.json")
    p = ((curate or {}).get("info") or {}).get("empathy_scorer")
    if not p or not p.get("scorer"):
        return missing("No EPITOME scorer recorded in stats/curate.json (run `distill curate`).")
    head = (
        f"<p>Scorer <code>{_esc(p['scorer'])}</code>"
        + (f", model <code>{_esc(p['model'])}</code>" if p.get("model") else "")
        + ".</p>"
    )
    v = p.get("validation")
    if not v:
        return head + missing(
            "No validation against human labels was recorded: run `distill scorers validate` (see the README)."
        )
    spans = v.get("intervals") or {}
    rows = [
        [m.replace("_", " "), *(figure_cell(f[k], (spans.get(m) or {}).get(k)) for k in FIGURES)]
        for m, f in v["figures"].items()
    ]
    scoring = v.get("scoring")
    path = f", {scoring_phrase(scoring)}" if scoring else ""
    note = (
        f'<p class="meta">Agreement with human EPITOME labels: {_esc(v["source"])}, {_esc(v.get("rows") or "?")} '
        f"pairs{_esc(path)}.</p>"
    )
    if "trained_on" in v:
        note += f'<p class="meta">{_esc(trained_on_phrase(v["trained_on"], v.get("rows")))}.</p>'
    phrase = intervals_phrase(spans)
    after = f'<p class="meta">{_esc(phrase)}.</p>' if phrase else ""
    return head + note + table(["mechanism", "accuracy", "macro-F1", "Spearman"], rows) + after


def lengths(ds: DatasetSummary | None) -> str:
    if ds is None or not ds.turns.values:
        return missing("No dataset yet to measure.")
    return '<div class="grid">' + "".join(
        image(plots.histogram(values, title, xlabel), title)
        for values, title, xlabel in (
            (ds.turns.values, "Turns per dialogue", "turns"),
            (ds.supporter_words.values, "Words per supporter turn", "words"),
        )
        if values
    ) + "</div>"  # fmt: skip


def score_distributions(ds: DatasetSummary | None) -> str:
    if ds is None or not ds.scores:
        return missing("No scores in the dataset yet (the curation scorers fill them).")
    names = sorted(ds.scores)[:MAX_SCORE_PLOTS]
    note = (
        ""
        if len(ds.scores) <= MAX_SCORE_PLOTS
        else f'<p class="meta">First {MAX_SCORE_PLOTS} of {len(ds.scores)} scores.</p>'
    )
    return (
        note
        + '<div class="grid">'
        + "".join(image(plots.histogram(ds.scores[n].values, n, "score"), n) for n in names)
        + "</div>"
    )


def training(run_dir: Path) -> str:
    train = read_json(run_dir / "stats" / "train.json")
    if train is None:
        return missing(f"No training stats ({run_dir / 'stats' / 'train.json'} is missing): run `distill train`.")
    points = loss_curve(train)
    if not points:
        return missing("stats/train.json has no loss curve.")
    return image(plots.line(points, "Training loss", "step", "loss"), "training loss curve")


def examples(ev: dict[str, Any] | None, ds: DatasetSummary | None) -> str:
    parts = []
    for ex in (ev or {}).get("examples") or []:
        replies = "".join(
            f'<div class="reply"><span class="role">{_esc(name)}</span>[{_esc(_verdict(r))}] '
            f"{_esc(r['response'])}</div>"
            for name, r in ex["responses"].items()
        )
        ref = (
            f'<div class="reply"><span class="role">reference</span>{_esc(ex["reference"])}</div>'
            if ex.get("reference")
            else ""
        )
        parts.append(
            f'<div class="dialogue"><p class="meta">held-out {_esc(ex["prompt_id"])} · '
            f"{_esc(ex.get('emotion') or 'unlabeled')}</p>"
            f"{turns(ex['context'])}{ref}{replies}</div>"
        )
    if not parts:
        parts.append(missing("No evaluation examples yet."))
    if ds is not None:
        parts.append(f"<h3>From the dataset ({ds.folder}/)</h3>")
        parts.extend(
            f'<div class="dialogue"><p class="meta">{_esc(d["id"])} · '
            f"{_esc(d.get('emotion') or 'unlabeled')}</p>{turns(d['messages'])}</div>"
            for d in ds.examples
        )
    return "".join(parts)


def _verdict(reply: dict[str, Any]) -> str:
    if reply.get("rating"):
        return str(reply["rating"]).capitalize()
    return f"judge failed: {reply['judge_failure']}" if reply.get("judge_failure") else "not judged"


def _esc(text: Any) -> str:
    return escape(str(text))


def _safe(title: str, render: Callable[[], str]) -> str:
    try:
        return render()
    except Exception as exc:  # one malformed input must not cost the whole report
        log.exception("report: section %r failed", title)
        return missing(f"This section could not be rendered: {type(exc).__name__}: {exc}")


def build_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write `<run_dir>/report.html` (or `out`) and return its path."""
    from distill.errors import InputError

    root = Path(run_dir)
    if not root.is_dir():
        raise InputError(f"{root}: not a run folder (it does not exist)")
    ev = read_json(root / "eval.json")
    ds = _safe_dataset(root)
    sections = [
        ("evaluation", "Evaluation", lambda: eval_summary(root, ev, ds)),
        ("per-emotion", "Empathy per emotion", lambda: per_emotion(ev)),
        ("dataset", "Dataset: emotions and strategies", lambda: dataset_distributions(ds)),
        ("funnel", "Filter funnel", lambda: filter_funnel(root)),
        ("empathy-scorer", "Empathy scorer and its agreement with people", lambda: empathy_scorer(root)),
        ("lengths", "Lengths", lambda: lengths(ds)),
        ("scores", "Score distributions", lambda: score_distributions(ds)),
        ("training", "Training", lambda: training(root)),
        ("examples", "Example dialogues", lambda: examples(ev, ds)),
    ]
    rendered = [(anchor, title, _safe(title, render)) for anchor, title, render in sections]
    meta = f"run folder {root.resolve()} · generated {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}"
    path = Path(out) if out else root / "report.html"
    atomic_write_text(path, document(f"Empathy distillation report: {root.name}", meta, rendered))
    log.info("report: %s", path)
    return path


def _safe_dataset(root: Path) -> DatasetSummary | None:
    try:
        return read_dataset(root)
    except Exception:  # the dataset sections then say it is missing; the traceback is in the log
        log.exception("report: cannot read the dataset under %s", root)
        return None
