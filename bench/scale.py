"""Scale: the full data path (seeds -> plan -> generate -> shards -> curate with MinHash dedup -> sample windows and
preference pairs) at 1x, 4x and 16x sizes up to 2,000,000 samples on this machine, with the DRYRUN teacher.

The dry-run teacher returns canned turns instantly, so what is measured is the system's own cost: Ray actors, planning,
parsing, Parquet shards and markers, filters, scorers, dedup and windows. Every stage runs as the real CLI in its own
process (`distill seeds load | generate | curate`), exactly as a user would run it; a sampler polls each stage's
process tree (driver + Ray workers) for resident memory. The MiniLM semantic pass is off: at this size it is GPU work
(see cluster/README.md), and its cost is the embedding model's, not ours.

    python -m bench.scale [--samples 2000000] [--factors 1 4 16] [--turns 12]

Writes bench/results/scale.md. Goal (issue #8): 2M samples in < 10 min, peak RSS < 3 GB per process, cost linear in
size.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "scale.md"
STAGES = (("seeds", ["seeds", "load"]), ("generate", ["generate"]), ("curate", ["curate"]))
BUNDLED_SEEDS = 96  # distill/seeds/bundled: 32 emotions x 3


@dataclass
class StageRun:
    seconds: float = 0.0
    peak_rss: dict[str, int] = field(default_factory=dict)  # process kind -> peak bytes of one process of that kind


def process_kind(proc) -> str:
    """Group a process of the stage's tree: our driver, Ray's own services, or Ray workers (teacher actors, curate
    tasks)."""
    try:
        cmd = " ".join(proc.cmdline())
    except Exception:
        return "other"
    if "distill.cli" in cmd:
        return "driver"
    if "default_worker.py" in cmd or cmd.startswith("ray::"):
        return "ray worker"
    if any(s in cmd for s in ("raylet", "gcs_server", "dashboard", "log_monitor", "monitor.py", "runtime_env")):
        return "ray services"
    return "other"


class RssSampler(threading.Thread):
    """Polls the resident set of every process under `pid`; keeps each kind's largest single-process peak."""

    def __init__(self, pid: int, interval_s: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval_s = pid, interval_s
        self.peaks: dict[str, int] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self.stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for proc in procs:
                try:
                    rss = proc.memory_info().rss
                except psutil.Error:
                    continue
                kind = process_kind(proc)
                self.peaks[kind] = max(self.peaks.get(kind, 0), rss)
            self.stop.wait(self.interval_s)


def scale_config(root: Path, name: str, samples: int, turns: int, units_per_shard: int) -> tuple[Path, int]:
    """A run config making about `samples` sample windows (one per supporter turn); returns (path, planned
    dialogues)."""
    per_dialogue = turns // 2
    variants = math.ceil(samples / per_dialogue / BUNDLED_SEEDS)
    config = {
        "run": {"name": name, "output_dir": str(root)},
        "seeds": {"sources": [{"path": "bundled"}], "holdout_fraction": 0.0},
        # DRYRUN: canned text, orchestration only. Two actors = the machine's two cores.
        "teacher": {
            "backend": "dryrun",
            "model": "dryrun",
            "placement": "ray",
            "num_actors": 2,
            "num_cpus_per_actor": 1,
        },
        "generate": {
            "modes": ["selfchat"],
            "variants_per_seed": variants,
            "selfchat_turns": turns,
            "units_per_shard": units_per_shard,
            "sampling": {"max_tokens": 48},
        },
        "curate": {"executor": "ray", "semantic_threshold": None},
    }
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path, variants * BUNDLED_SEEDS


def run_stage(config: Path, args: list[str], log_path: Path) -> StageRun:
    env = {**os.environ, "RAY_ADDRESS": "", "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    with open(log_path, "a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "distill.cli", *args, "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        sampler = RssSampler(proc.pid)
        sampler.start()
        rc = proc.wait()
        sampler.stop.set()
        sampler.join()
    if rc != 0:
        sys.exit(f"{' '.join(args)} failed (exit {rc}); see {log_path}")
    return StageRun(time.perf_counter() - t0, sampler.peaks)


def run_size(root: Path, name: str, samples: int, turns: int, units_per_shard: int) -> dict:
    config, dialogues = scale_config(root, name, samples, turns, units_per_shard)
    log_path = root / f"{name}.log"
    stages = {stage: run_stage(config, args, log_path) for stage, args in STAGES}
    run = root / name
    gen = json.loads((run / "stats" / "generate.json").read_text())["counters"]
    cur = json.loads((run / "stats" / "curate.json").read_text())["counters"]
    disk = sum(p.stat().st_size for p in run.rglob("*") if p.is_file())
    result = {
        "target_samples": samples,
        "dialogues_planned": dialogues,
        "generated_samples": gen.get("samples", 0),
        "dialogues_in": cur.get("dialogues_in", 0),
        "curated": cur.get("curated", 0),
        "rejected": cur.get("rejected", 0),
        "samples": cur.get("samples", 0),
        "preference_pairs": cur.get("preference_pairs", 0),
        "seconds": {stage: round(r.seconds, 1) for stage, r in stages.items()},
        "peak_rss_mb": {
            stage: {k: round(v / 2**20) for k, v in sorted(r.peak_rss.items())} for stage, r in stages.items()
        },
        "disk_mb": round(disk / 2**20),
    }
    # Nothing lost: generated dialogues all reached curated or a reject.
    if result["dialogues_in"] != result["curated"] + result["rejected"] or result["dialogues_in"] != gen.get(
        "dialogues", 0
    ):
        sys.exit(f"{name}: counts do not add up: {result}")
    return result


def report(results: list[dict], args: argparse.Namespace, load_before: float) -> str:
    largest = results[-1]
    lines = [
        "# Scale (dry-run teacher)",
        "",
        f"Command: `python -m bench.scale --samples {args.samples} --factors {' '.join(map(str, args.factors))} "
        f"--turns {args.turns}`",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, no GPU; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"1-min load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after.",
        f"Workload: bundled seeds, `selfchat` of {args.turns} messages ({args.turns // 2} samples per dialogue), "
        "DRYRUN teacher on 2 Ray actors, "
        "curation as Ray tasks (filters, safety, lexical EPITOME, strategy coverage, VADER, exact + MinHash LSH dedup, "
        "sample windows, preference pairs; MiniLM pass off). Each stage is the real CLI in its own process; "
        "RSS is the largest single process of each kind, sampled every 0.25 s.",
        "",
        "| samples | dialogues | seeds+plan s | generate s | curate s | total s | samples/s | s per 100k samples | "
        "peak RSS MB (driver / Ray worker) | disk MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        s = r["seconds"]
        total = sum(s.values())
        rss = r["peak_rss_mb"]
        driver = max(rss[st].get("driver", 0) for st in rss)
        worker = max(rss[st].get("ray worker", 0) for st in rss)
        lines.append(
            f"| {r['samples']:,} | {r['curated']:,} | {s['seeds']:.1f} | {s['generate']:.1f} | {s['curate']:.1f} | "
            f"{total:.1f} | "
            f"{r['samples'] / total:,.0f} | {total / r['samples'] * 1e5:.1f} | {driver:,} / {worker:,} | "
            f"{r['disk_mb']:,} |"
        )
    total = sum(largest["seconds"].values())
    peak = max(v for st in largest["peak_rss_mb"].values() for v in st.values())
    if (
        len(results) > 1
    ):  # fixed costs (Ray and engine start-up, imports) amortize; the marginal cost is what must be linear
        a, b = results[-2], results[-1]
        marginal = (sum(b["seconds"].values()) - sum(a["seconds"].values())) / (b["samples"] - a["samples"]) * 1e5
        lines += ["", f"Marginal cost between the two largest runs: {marginal:.1f} s per 100k samples."]
    lines += [
        "",
        f"Largest run: {largest['samples']:,} samples in {total / 60:.1f} min (goal < 10 min: "
        f"{'met' if total < 600 else 'NOT met'}); "
        f"largest process {peak:,} MB (goal < 3,072 MB: {'met' if peak < 3072 else 'NOT met'}). "
        f"{largest['dialogues_in']:,} dialogues in = {largest['curated']:,} curated + {largest['rejected']:,} "
        "rejected.",
        "",
        "Peak RSS by stage and process kind (MB), largest run: "
        + "; ".join(
            f"{st}: " + ", ".join(f"{k} {v:,}" for k, v in kinds.items())
            for st, kinds in largest["peak_rss_mb"].items()
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2_000_000, help="samples of the largest run")
    parser.add_argument(
        "--factors", type=int, nargs="+", default=[1, 4, 16], help="run sizes as multiples of samples / max factor"
    )
    parser.add_argument(
        "--turns", type=int, default=12, help="messages per selfchat dialogue (samples per dialogue = turns / 2)"
    )
    parser.add_argument("--units-per-shard", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the run folders (in a temp dir, printed)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    results = []
    try:
        top = max(args.factors)
        for factor in sorted(args.factors):
            samples = args.samples * factor // top
            print(f"== {samples:,} samples", flush=True)
            result = run_size(root, f"scale-{factor}x", samples, args.turns, args.units_per_shard)
            print(json.dumps(result), flush=True)
            results.append(result)
            if not args.keep:
                shutil.rmtree(root / f"scale-{factor}x", ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"kept {root}")
    text = report(results, args, load_before)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
