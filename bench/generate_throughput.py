"""Generation throughput: the pipeline (plan -> Ray actor -> vLLM -> parse -> shards) vs the bare vLLM engine
(`LLM.generate` on the same prompts, sampling and per-request seeds), measured side by side in one run.

Workloads:
- `single`: the bundled seeds with their last supporter turn removed, `continue` by one supporter turn: one request per
  unit, prompts known up front. Adds transformers `generate` on a prefix of the same prompts (`--transformers-units`).
- `multi`: `selfchat` dialogues of `--turns` messages: each turn's prompt depends on the previous turn's text. The bare
  engine is driven round by round (every live dialogue's next turn in one `LLM.generate`); the pipeline runs both its
  engines: `async` (AsyncLLM, each dialogue awaits its own turns) and `sync` (LLM.generate round by round, the old
  path).

Both sides count completion tokens of every request over generation seconds; engine start-up is excluded on both sides
and reported separately; chat-template tokenization, rendering and parsing are inside the timed window on both sides
(the bare run uses the pipeline's own prompt and parse code, so it sends exactly the same requests). Repetitions are
interleaved (pipeline, bare, pipeline, bare, ...) so load drift on a shared machine hits both alike; every run is listed
and the ratio is the median of per-repetition ratios. CPU use per process group is sampled during generation.

Run:  python -m bench.generate_throughput [--workload single multi] [--repeats 3] [--multi-repeats 1] [--units 32]
[--max-tokens 64]
Writes bench/results/generate.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "generate.md"
RESULT_PREFIX = "BENCH_RESULT "  # a child's result line among whatever else it prints
CPU_GROUPS = (
    "driver",
    "ray worker/actor",
    "vllm engine (core + worker)",
    "ray daemons",
    "other processes (ours)",
    "other processes",
)


def bench_config(root: Path, name: str, workload: str, args: argparse.Namespace, async_engine: bool = True):
    from distill.config import load_config

    mode = (
        ["generate.modes=[continue]", "generate.continue_turns=1"]
        if workload == "single"
        else ["generate.modes=[selfchat]", f"generate.selfchat_turns={args.turns}"]
    )
    return load_config(
        None,
        [
            f"run.output_dir={root}",
            f"run.name={name}",
            "teacher.backend=vllm",
            "teacher.dtype=float32",
            "teacher.enforce_eager=true",
            "teacher.max_model_len=2048",
            "teacher.cpu_kvcache_space_gib=2",
            f"teacher.num_cpus_per_actor={os.cpu_count() or 1}",
            f"teacher.async_engine={str(async_engine).lower()}",
            *mode,
            "generate.truncated_turns=trim",
            f"generate.units_per_shard={args.units_per_shard or args.units}",
            "generate.sampling.temperature=0.8",
            "generate.sampling.top_p=0.95",
            f"generate.sampling.max_tokens={args.max_tokens}",
        ],
    )


def bench_seed_rows(units: int) -> list[dict]:
    """Bundled seeds ending on a seeker turn (their last supporter turn dropped), cycled with fresh ids up to
    `units`."""
    from distill.config import load_config
    from distill.records import make_id
    from distill.seeds.stage import iter_outcomes

    base = []
    for _name, outcome in iter_outcomes(load_config(None).seeds):
        seed = outcome.seed
        if seed is None:
            continue
        turns = [m for m in seed["messages"] if m["role"] != "system"]
        while turns and turns[-1]["role"] == "assistant":
            turns.pop()
        if turns:
            base.append({**seed, "messages": turns})
    if not base:
        sys.exit("no bundled seeds found")
    return [{**base[i % len(base)], "id": make_id("bench", i)} for i in range(units)]


def write_seeds(cfg, rows: list[dict]) -> None:
    from distill.records import SEED
    from distill.run_dir import RunDir
    from distill.shards import ShardWriter
    from distill.stages import SEEDS

    run = RunDir(cfg)
    run.claim_stage(SEEDS)
    with ShardWriter(run.seeds, SEED) as out:
        out.write(rows)
    run.finish_stage("seeds")


def planned_units(cfg, rows):
    """Exactly the units the pipeline plans: the same planner."""
    from distill.generate.plan import iter_plan
    from distill.teachers import teacher_id

    return [u for u in iter_plan(rows, cfg.generate, teacher_id(cfg.teacher)) if not isinstance(u, dict)]


def run_pipeline(cfg, rows) -> dict[str, Any]:
    import ray

    from distill.generate import run_generate

    write_seeds(cfg, rows)
    stats = run_generate(cfg)
    ray.shutdown()
    inv = stats.info["this_invocation"]
    gen_start = stats.started_at + inv["teacher_start_s"]
    return {
        "tokens": stats.counters["tokens/completion"],
        "seconds": inv["generate_s"],
        "start_s": inv["teacher_start_s"],
        "requests": stats.counters["requests"],
        "window": [gen_start, gen_start + inv["generate_s"]],  # wall times: the parent's CPU sampler reads this span
    }


def run_bare_vllm(cfg, units) -> dict[str, Any]:
    """`LLM.generate` driven round by round over the same episodes (one round in the single workload)."""
    from vllm import LLM

    from distill.embedded import resolve_model
    from distill.generate.synthesize import Episode
    from distill.teachers.base import TeacherResult
    from distill.teachers.vllm_backend import engine_kwargs, prepare, result_of

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(cfg.teacher.cpu_kvcache_space_gib))
    t0 = time.perf_counter()
    llm = LLM(**engine_kwargs(cfg.teacher, resolve_model(cfg.teacher.model)))
    start_s = time.perf_counter() - t0
    tok, max_len = llm.get_tokenizer(), int(llm.llm_engine.model_config.max_model_len)
    episodes = [Episode(u, cfg.generate) for u in units]
    tokens = requests = 0
    wall0, t0 = time.time(), time.perf_counter()
    while live := [(ep, req) for ep in episodes if (req := ep.next_request()) is not None]:
        prepared = [prepare(req, tok, max_len) for _, req in live]
        served = [(ep, req, p) for (ep, req), p in zip(live, prepared) if not isinstance(p, TeacherResult)]
        outs = (
            llm.generate([p[0] for _, _, p in served], [p[1] for _, _, p in served], use_tqdm=False) if served else []
        )
        for (ep, req, _), out in zip(served, outs):
            result = result_of(req, out)
            tokens += result.completion_tokens
            ep.feed(result)
        for (ep, req), p in zip(live, prepared):
            if isinstance(p, TeacherResult):
                ep.feed(p)
        requests += len(live)
    seconds = time.perf_counter() - t0
    llm.llm_engine.engine_core.shutdown()
    return {
        "tokens": tokens,
        "seconds": seconds,
        "start_s": start_s,
        "requests": requests,
        "window": [wall0, wall0 + seconds],
    }


def run_transformers(cfg, units, batch_size: int = 16) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from distill.embedded import resolve_model
    from distill.generate.synthesize import Episode

    requests = [Episode(u, cfg.generate).next_request() for u in units]
    path = resolve_model(cfg.teacher.model)
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(path)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    start_s = time.perf_counter() - t0
    s = requests[0].sampling
    tokens, t0 = 0, time.perf_counter()
    for i in range(0, len(requests), batch_size):
        chunk = requests[i : i + batch_size]
        enc = tok(
            [tok.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False) for r in chunk],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
        )
        torch.manual_seed(chunk[0].sampling.seed)
        with torch.inference_mode():
            out = model.generate(
                **enc,
                do_sample=True,
                temperature=s.temperature,
                top_p=s.top_p,
                max_new_tokens=s.max_tokens,
                pad_token_id=tok.pad_token_id,
            )
        new = out[:, enc["input_ids"].shape[1] :]
        stops = {tok.eos_token_id, tok.pad_token_id}
        for row in new.tolist():
            tokens += next((j for j, t in enumerate(row) if t in stops), len(row))
    return {"tokens": tokens, "seconds": time.perf_counter() - t0, "start_s": start_s, "requests": len(requests)}


def run_one(spec: dict[str, Any]) -> dict[str, Any]:
    """One run in this (fresh) process: `spec` names the workload, the method and the run folder."""
    args = argparse.Namespace(**spec["args"])
    workload, method, root = spec["workload"], spec["method"], Path(spec["root"])
    rows = bench_seed_rows(args.units)
    cfg = bench_config(root, spec["name"], workload, args, async_engine=not method.startswith("pipeline-sync"))
    if method.startswith("pipeline"):
        return run_pipeline(cfg, rows)
    if method == "bare":
        return run_bare_vllm(cfg, planned_units(cfg, rows))
    return run_transformers(cfg, planned_units(cfg, rows)[: args.transformers_units])


def in_child(spec: dict[str, Any], sampler) -> dict[str, Any]:
    """Each run in its own process, so no run inherits another's Ray client, engine threads or leftover daemons."""
    import subprocess

    env = dict(os.environ)
    if spec["method"].endswith("-rayomp"):
        # As before the fix in distill.generate.pool.engine_env: Ray's OMP_NUM_THREADS=<actor CPUs> reaches vLLM as if
        # the user had set it (an exported value is left alone), so the engine's scheduler keeps spinning OMP threads.
        env["OMP_NUM_THREADS"] = str(os.cpu_count() or 1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.generate_throughput", "--one", json.dumps(spec)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    sampler.drivers.add(proc.pid)
    out, _ = proc.communicate()
    if proc.returncode != 0:
        sys.exit(f"{spec['method']} run failed (exit {proc.returncode})")
    result = json.loads(
        next(line for line in reversed(out.splitlines()) if line.startswith(RESULT_PREFIX))[len(RESULT_PREFIX) :]
    )
    if "window" in result:
        result["cpu"] = sampler.cores(*result.pop("window"))
    return result


def run_workload(workload: str, args: argparse.Namespace, root: Path, sampler) -> list[dict[str, Any]]:
    """Every run of one workload, interleaved: for each repetition the pipeline engine(s), then the bare engine."""
    engines = args.pipeline_engines or (["async", "async-rayomp"] if workload == "single" else ["async", "sync"])
    repeats = args.repeats if workload == "single" else args.multi_repeats
    per_shard = args.units_per_shard or args.units
    base = {"workload": workload, "root": str(root), "args": {k: v for k, v in vars(args).items() if k != "one"}}
    runs = []
    for rep in range(repeats):
        for engine in engines:
            name = (
                f"pipeline, {engine.replace('-rayomp', '')} "
                f"engine{' + Ray OMP_NUM_THREADS (old)' if 'rayomp' in engine else ''} (Ray actor + parse + shards; "
                f"batches of {per_shard})"
            )
            spec = {**base, "method": f"pipeline-{engine}", "name": f"{workload}-{engine}-{rep}"}
            runs.append({"repeat": rep, "method": name, **in_child(spec, sampler)})
            print(json.dumps(runs[-1]), flush=True)
        name = "bare vLLM LLM.generate" + (" (round by round)" if workload == "multi" else "")
        spec = {**base, "method": "bare", "name": f"{workload}-bare-{rep}"}
        runs.append({"repeat": rep, "method": name, "bare": True, **in_child(spec, sampler)})
        print(json.dumps(runs[-1]), flush=True)
    if workload == "single" and args.transformers_units:
        name = f"transformers generate (batch 16, first {args.transformers_units} prompts)"
        spec = {**base, "method": "transformers", "name": "single-transformers"}
        runs.append({"repeat": 0, "method": name, **in_child(spec, sampler)})
    for r in runs:
        r["rate"] = r["tokens"] / r["seconds"]
        bare = next(b for b in runs if b.get("bare") and b["repeat"] == r["repeat"])
        r["vs_bare"] = r["rate"] / (bare["tokens"] / bare["seconds"])
    return runs


def table(workload: str, args: argparse.Namespace, runs: list[dict[str, Any]]) -> list[str]:
    what = (
        "bundled seeds, `continue` by one supporter turn, one request per unit"
        if workload == "single"
        else f"`selfchat` dialogues of {args.turns} messages ({args.turns} dependent requests per unit, fewer if a "
        "turn is rejected)"
    )
    lines = [
        f"## Workload `{workload}`: {args.units} units, max_tokens {args.max_tokens}",
        "",
        f"{what}; identical prompts + per-request seeds on every side, temperature 0.8, top_p 0.95. Rate = completion "
        "tokens / "
        "generation seconds (start-up excluded). CPU = average cores used per process group during generation.",
        "",
        "| rep | method | requests | completion tokens | gen s | tokens/s | vs bare (same rep) | start-up s | CPU "
        "cores: " + " / ".join(CPU_GROUPS) + " |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        cpu = " / ".join(f"{r['cpu'].get(g, 0.0):.2f}" for g in CPU_GROUPS) if r.get("cpu") else "n/a"
        lines.append(
            f"| {r['repeat']} | {r['method']} | {r['requests']} | {r['tokens']} | {r['seconds']:.1f} | {r['rate']:.1f} "
            f"| {r['vs_bare']:.2f}x | {r['start_s']:.1f} | {cpu} |"
        )
    lines += ["", "Median over repetitions of the per-repetition ratio to bare vLLM:", ""]
    for method in dict.fromkeys(r["method"] for r in runs if not r.get("bare")):
        ratios = [r["vs_bare"] for r in runs if r["method"] == method]
        lines.append(
            f"- {method}: **{statistics.median(ratios):.2f}x** (runs: {', '.join(f'{x:.2f}' for x in ratios)})"
        )
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workload", nargs="+", choices=["single", "multi"], default=["single", "multi"])
    parser.add_argument("--repeats", type=int, default=3, help="interleaved pipeline/bare repetitions per workload")
    parser.add_argument("--multi-repeats", type=int, default=1, help="repetitions of the (longer) multi workload")
    parser.add_argument("--units", type=int, default=32)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--turns", type=int, default=4, help="multi: messages per selfchat dialogue")
    parser.add_argument(
        "--transformers-units",
        type=int,
        default=0,
        help="single: transformers on a prefix of the same prompts (0 = skip; slow on CPU)",
    )
    parser.add_argument(
        "--units-per-shard",
        type=int,
        default=None,
        help="pipeline unit batch size (default: all units in one batch, the bare run's engine batch)",
    )
    parser.add_argument(
        "--pipeline-engines",
        nargs="+",
        choices=["async", "sync", "async-rayomp", "sync-rayomp"],
        default=None,
        help="default: async and async-rayomp for single, async and sync for multi; -rayomp: with Ray's "
        "OMP_NUM_THREADS reaching vLLM (the old behaviour)",
    )
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # internal: one run, in a child process
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.one:
        result = run_one(json.loads(args.one))
        print(RESULT_PREFIX + json.dumps(result), flush=True)
        return
    from bench.cpu_sampler import CpuSampler

    load_before = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    sections: list[str] = []
    try:
        with CpuSampler() as sampler:
            for workload in args.workload:
                sections += table(workload, args, run_workload(workload, args, root, sampler))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    command = " ".join(["python -m bench.generate_throughput", *sys.argv[1:]])
    lines = [
        "# Generation throughput",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU; teacher "
        "SmolLM2-135M-Instruct (embedded), float32, "
        f"vllm-cpu enforce_eager; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; 1-min load average "
        f"{load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (the machine is shared: compare ratios within one repetition; 'other "
        "processes' is load the run did not start).",
        "",
        *sections,
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
