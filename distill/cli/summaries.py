"""One short summary per stage, from its stats: what the stage commands, `distill run` and the Ray job entrypoints
print.

Kept in one place so a stage reads the same wherever it ran; each line is plain text (it also lands in job logs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from distill.run_dir import RunDir
from distill.stages import STAGE_NAMES
from distill.stats import StageStats, stored_stats

TOP_REASONS = 4  # reject reasons named in a summary line; the rest are in stats/<stage>.json and `distill view`


def _reasons(counts: dict[str, int | float]) -> str:
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {int(v)}" for k, v in top[:TOP_REASONS])
    more = len(top) - TOP_REASONS
    return f" ({text}{f', +{more} more' if more > 0 else ''})" if text else ""


def seeds_line(stats: StageStats) -> str:
    c = stats.counters
    return (f"seeds: {c['records_kept']} kept ({c['for_generation']} for generation, {c['holdout']} held out), "
            f"{c['records_rejected']} rejected{_reasons(stats.by_prefix('rejected'))}")  # fmt: skip


def generate_line(stats: StageStats) -> str:
    c = stats.counters
    rate = stats.info.get("this_invocation", {}).get("completion_tokens_per_s")
    cost = stats.info.get("estimated_cost_usd")
    tail = f", {c['tokens/completion']} completion tokens" + (f" ({rate} tok/s)" if rate else "")
    if cost:
        tail += f", est. ${cost:.4f}"
    return (f"generate: {c['units_planned']} units -> {c['dialogues']} dialogues ({c['samples']} samples), "
            f"{c['rejected']} rejected{_reasons(stats.by_prefix('rejected'))}{tail}")  # fmt: skip


def curate_line(stats: StageStats) -> str:
    c = stats.counters
    methods = stats.by_prefix("prefs/method")
    how = f" ({', '.join(f'{k} {int(v)}' for k, v in sorted(methods.items()))})" if len(methods) > 1 else ""
    executor = stats.info.get("executor")
    return (
        f"curate: {c['dialogues_in']} dialogues -> {c['curated']} curated, {c['samples']} samples, "
        f"{c['preference_pairs']} preference pairs{how}; {c['rejected']} "
        f"rejected{_reasons(stats.by_prefix('dropped'))}" + (f" (executor: {executor})" if executor else "")
    )


def train_line(stats: StageStats) -> str:
    curve = stats.info.get("loss_curve") or []
    loss = f", loss {curve[0]['loss']:.4f} -> {curve[-1]['loss']:.4f}" if curve else ""
    rejected = int(sum(stats.by_prefix("rejected").values()))
    return (f"train: {int(stats.counters['optimizer_steps'])} steps on {int(stats.counters['records_used'])} records "
            f"({rejected} rejected){loss} -> {stats.info.get('export') or stats.info.get('checkpoint')}")  # fmt: skip


def eval_line(stats: StageStats, run: RunDir) -> str:
    """Prompts, and per system the judge's Good/Okay/Bad counts (failed verdicts counted apart)."""
    line = f"eval: {stats.counters['prompts']} prompts"
    ev = _read_json(run.path("eval.json"))
    for name, system in (ev.get("systems") or {}).items():
        rating = (system.get("judge") or {}).get("empathy_rating")
        if system.get("status") != "evaluated" or not rating:
            continue
        line += f"; {name} good {rating['good']} / okay {rating['okay']} / bad {rating['bad']}"
        if rating.get("failed"):
            line += f" ({rating['failed']} unjudged)"
    return line


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def stage_line(stage: str, stats: StageStats, run: RunDir) -> str:
    if stage == "eval":
        return eval_line(stats, run)
    return {"seeds": seeds_line, "generate": generate_line, "curate": curate_line, "train": train_line}[stage](stats)


def output_lines(run: RunDir) -> list[str]:
    """Where the outputs are (paths whole, so they copy)."""
    lines = [f"run folder: {run.root}"]
    for label, path in (
        ("seeds", run.seeds),
        ("dataset", run.curated),
        ("samples", run.samples),
        ("checkpoint", run.checkpoints),
        ("report", run.path("report.html")),
        ("logs", run.path("logs")),
    ):
        if path.exists():
            lines.append(f"{label}: {path}")
    return lines


def funnel_line(run: RunDir) -> str:
    """The run from seeds to evaluation in one line, from every finished stage's stats."""
    s = {stage: stored_stats(run.root, stage).counters for stage in STAGE_NAMES}
    steps = [
        f"{s['seeds']['records_kept']} seeds ({s['seeds']['holdout']} held out)",
        f"{s['generate']['units_planned']} units",
        f"{s['generate']['dialogues']} dialogues",
        f"{s['curate']['curated']} curated",
        f"{s['curate']['samples']} samples + {s['curate']['preference_pairs']} pairs",
        f"{int(s['train']['optimizer_steps'])} train steps",
        f"{s['eval']['prompts']} eval prompts",
    ]
    return "funnel: " + " -> ".join(steps)
