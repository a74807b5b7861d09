"""Viewer latency and memory on a run of the scale bench's size: 333,408 dialogues and 2,000,448 sample windows.

    python -m bench.view [--dialogues 333408] [--repeats 3]

A run folder of that shape (bench/results/scale.md's 2M-sample run: selfchat dialogues of 12 messages, 6 windows each,
curated in 50,000-row shards, generated in 2,000-dialogue unit shards; plus a pair per dialogue, rejects, seeds) is
written straight to Parquet with `ShardWriter` into a temp folder, streaming 4,096 dialogues at a time; the texts are
the 96 bundled seeds' sentences recombined (every turn unique, as model output is), so searches hit real words at
real rates. The scale bench itself would take its 6 minutes of Ray work to make the same files. Then the real CLI
(`distill view`) serves it in its own process and
each page is fetched over HTTP: first (cold: facets computed, footers read) and the median of the repeats after it.
The files were just written, so they sit in the OS page cache, as they would on a machine that has the run open.
Writes bench/results/view.md + .json; the temp folder is deleted. Goals (issue #15): first page < 1 s, a filtered
page < 2 s, viewer RSS < 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BATCH = 4096  # dialogues written per step
TURNS = 12


def bundled_sentences() -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """The bundled seeds, and their seeker and supporter turns split into sentences (the pools texts are drawn from)."""
    path = resources.files("distill") / "data" / "seeds" / "en_empathy_seeds.jsonl"
    seeds = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def sentences(role: str) -> list[str]:
        return [
            x
            for s in seeds
            for m in s["messages"]
            if m["role"] == role
            for x in re.split(r"(?<=[.!?])\s+", m["content"])
            if x
        ]

    return seeds, sentences("user"), sentences("assistant")


def dialogue_batch(
    rng: random.Random, seeds: list[dict[str, Any]], pools: tuple[list[str], list[str]], start: int, k: int
) -> pa.Table:
    """`k` dialogues of TURNS messages; each turn is 2-3 pool sentences plus the row's number, so (like model output) no
    two turns are equal and Parquet's dictionaries cannot fold them: the scan does the work a real run's would."""
    from distill.records import DIALOGUE, STRATEGIES, make_id, scores_rows, to_table

    rows = []
    for i in range(start, start + k):
        seed = seeds[i % len(seeds)]
        messages = [
            {
                "role": "user" if t % 2 == 0 else "assistant",
                "content": " ".join(rng.sample(pools[t % 2], rng.choice((2, 3)))) + f" ({i}.{t})",
            }
            for t in range(TURNS)
        ]
        messages[0]["content"] = f"{seed['messages'][0]['content']} ({i}.0)"
        er, ip, ex = rng.choice((0, 1, 2)), rng.choice((0, 1, 2)), rng.choice((0, 1, 2))
        scores = {
            "empathy": float(er + ip + ex),
            "epitome_er": float(er),
            "epitome_ip": float(ip),
            "epitome_ex": float(ex),
            "strategy_coverage": rng.choice((0.0, 1 / 3, 2 / 3, 1.0)),
            "valence_shift": round(rng.uniform(-1, 1), 3),
        }
        rows.append(
            {
                "id": make_id("bench-dialogue", i),
                "seed_id": make_id("bench-seed", seed["id"]),
                "mode": ("selfchat", "continue", "rewrite")[i % 3],
                "variant": i // len(seeds),
                "prompt_version": "v1",
                "language": "en",
                "emotion": seed["emotion"],
                "strategies": rng.sample(STRATEGIES, 3),
                "messages": messages,
                "teacher": {"model": "dryrun", "revision": None, "backend": "dryrun"},
                "sampling": {"temperature": 0.8, "top_p": 0.95, "max_tokens": 48, "seed": i},
                "usage": {"prompt_tokens": 100, "completion_tokens": 40},
                "finish_reason": "stop",
                "scores": scores_rows(scores),
                "created_at": None,
                "source": "bundled",
                "license": "CC-BY-4.0",
            }
        )
    return to_table(rows, DIALOGUE)


def windows_of(batch: pa.Table) -> pa.Table:
    """Sample windows of a dialogue batch, one per supporter turn, built column-wise (no per-row Python)."""
    import pyarrow.compute as pc

    from distill.records import SAMPLE_WINDOW, make_id

    messages, n = batch.column("messages"), batch.num_rows
    parts = []
    for turn in range(1, TURNS, 2):
        parts.append(
            pa.table(
                {
                    "id": pa.array(
                        [make_id("bench-window", d, turn) for d in batch.column("id").to_pylist()], pa.string()
                    ),
                    "dialogue_id": batch.column("id"),
                    "seed_id": batch.column("seed_id"),
                    "turn": pa.array([turn] * n, pa.int32()),
                    "emotion": batch.column("emotion"),
                    "context": pc.list_slice(messages, 0, turn),
                    "response": pc.struct_field(pc.list_element(messages, turn), "content"),
                    "source": batch.column("source"),
                    "license": batch.column("license"),
                }
            )
        )
    table = pa.concat_tables(parts)
    order = [
        t * n + i for i in range(n) for t in range(TURNS // 2)
    ]  # a dialogue's windows together, as curation writes them
    return table.take(pa.array(order)).cast(SAMPLE_WINDOW)


def pairs_of(batch: pa.Table, emotions_shifted: pa.Array) -> pa.Table:
    import pyarrow.compute as pc

    from distill.records import PREFERENCE_PAIR, make_id

    messages, n = batch.column("messages"), batch.num_rows
    rejected = pc.struct_field(pc.list_element(messages, 3), "content").combine_chunks()
    return pa.table(
        {
            "id": pa.array([make_id("bench-pair", d) for d in batch.column("id").to_pylist()], pa.string()),
            "dialogue_id": batch.column("id"),
            "prompt": pc.list_slice(messages, 0, 1),
            "chosen": pc.struct_field(pc.list_element(messages, 1), "content"),
            # another dialogue's reply, as cross_dialogue pairs are
            "rejected": pa.concat_arrays([rejected.slice(1), rejected.slice(0, 1)]),
            "emotion": batch.column("emotion"),
            "rejected_emotion": emotions_shifted,
            "method": pa.array(["cross_dialogue"] * n, pa.string()),
            "source": batch.column("source"),
            "license": pa.array(["CC-BY-4.0 AND CC-BY-4.0"] * n, pa.string()),
        }
    ).cast(PREFERENCE_PAIR)


REJECT_REASONS = (
    ("curate", "too_few_turns", 0.4),
    ("curate", "ai_disclaimer", 0.3),
    ("curate", "minhash", 0.2),
    ("generate", "parse_error", 0.1),
)


def synthesize(root: Path, n_dialogues: int) -> dict[str, int]:
    """Write the run folder, streaming one batch of dialogues at a time (memory: one batch)."""
    from distill.records import DIALOGUE, PREFERENCE_PAIR, REJECT, SAMPLE_WINDOW, SEED, make_id, make_reject
    from distill.shards import ShardWriter

    seeds, users, assistants = bundled_sentences()
    with ShardWriter(root / "seeds", SEED) as out:
        out.write(
            {
                "id": make_id("bench-seed", s["id"]),
                "source": "bundled",
                "language": "en",
                "emotion": s["emotion"],
                "situation": s["situation"],
                "messages": s["messages"],
                "metadata": "{}",
                "license": "CC-BY-4.0",
            }
            for s in seeds
        )
    counts = {"dialogues": 0, "samples": 0, "prefs": 0, "rejects": 0}
    rng = random.Random(0)
    with (
        ShardWriter(root / "curated", DIALOGUE, rows_per_shard=50_000) as curated,
        # generated/: the same dialogues in shards of 2,000, the scale run's unit batches (generation writes one shard
        # per batch)
        ShardWriter(root / "generated", DIALOGUE, prefix="units", rows_per_shard=2000) as generated,
        ShardWriter(root / "samples", SAMPLE_WINDOW, rows_per_shard=50_000) as samples,
        ShardWriter(root / "prefs", PREFERENCE_PAIR, rows_per_shard=50_000) as prefs,
        ShardWriter(root / "rejects" / "curate", REJECT, rows_per_shard=50_000) as curate_rejects,
        ShardWriter(root / "rejects" / "generate", REJECT, rows_per_shard=50_000) as generate_rejects,
    ):
        done = 0
        while done < n_dialogues:
            k = min(BATCH, n_dialogues - done)
            batch = dialogue_batch(rng, seeds, (users, assistants), done, k)
            curated.write_table(batch)
            generated.write_table(batch)
            samples.write_table(windows_of(batch))
            emotions = batch.column("emotion").combine_chunks()
            prefs.write_table(pairs_of(batch, pa.concat_arrays([emotions.slice(7), emotions.slice(0, 7)])))
            # 1 in 16 as many again were rejected on the way (reasons in fixed proportions), each with its record's JSON
            rows = []
            for j in range(k // 16):
                stage, reason, _ = rng.choices(REJECT_REASONS, weights=[w for *_, w in REJECT_REASONS])[0]
                rid = make_id("bench-reject", done + j)
                record = {"id": rid, "messages": batch.slice(j, 1).column("messages")[0].as_py()}
                rows.append(
                    make_reject(
                        stage,
                        reason,
                        f"bench reject {done + j}: {reason.replace('_', ' ')}",
                        record_id=rid,
                        record=record,
                    )
                )
            for stage, out in (("curate", curate_rejects), ("generate", generate_rejects)):
                out.write([r for r in rows if r["stage"] == stage])
            counts["dialogues"] += k
            counts["samples"] += k * TURNS // 2
            counts["prefs"] += k
            counts["rejects"] += len(rows)
            done += k
    (root / "config.yaml").write_text("curate:\n  min_turns: 4\n  min_empathy: 1.0\n")
    return counts


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval_s: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval_s, self.peak = pid, interval_s, 0
        self.stop = threading.Event()

    def run(self) -> None:
        import psutil

        proc = psutil.Process(self.pid)
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, proc.memory_info().rss)
            except psutil.Error:
                return
            self.stop.wait(self.interval_s)


def fetch(url: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as resp:
        body = resp.read().decode()
        if resp.status != 200:
            raise RuntimeError(f"{url}: HTTP {resp.status}")
    return time.perf_counter() - t0, body


def summary_of(html: str) -> str:
    match = re.search(r'<p class="meta" id="summary">([^<]*)</p>', html)
    return match.group(1).split("; showing")[0] if match else ""


def pages(root: Path, counts: dict[str, int]) -> list[tuple[str, str, str]]:
    """(group, label, path) of every page measured; ids and cursors are taken from the data written."""
    from distill.records import make_id

    mid_dialogue = make_id("bench-dialogue", counts["dialogues"] // 2)
    last = make_id("bench-dialogue", counts["dialogues"] - 1)
    deep_shard = sorted(p.name for p in (root / "samples").glob("*.parquet"))[-2]
    return [
        ("first", "index (counts per output, rejects by reason)", "/"),
        ("first", "curated dialogues, first page", "/list/curated"),
        ("first", "sample windows, first page", "/list/samples"),
        ("first", "preference pairs, first page", "/list/prefs"),
        ("first", "rejects, first page", "/list/rejects"),
        ("first", "generated dialogues (2,000-row unit shards), first page", "/list/generated"),
        ("filtered", "curated: emotion", "/list/curated?emotion=lonely"),
        ("filtered", "curated: mode + strategy", "/list/curated?mode=rewrite&strategy=trust"),
        ("filtered", "curated: score range", "/list/curated?" + urlencode({"min.empathy": 5, "max.empathy": 6})),
        (
            "filtered",
            "curated: emotion + two score ranges",
            "/list/curated?" + urlencode({"emotion": "proud", "min.empathy": 4, "max.valence_shift": 0}),
        ),
        ("filtered", "samples: emotion", "/list/samples?emotion=afraid"),
        (
            "filtered",
            "samples of one dialogue (selective: scans dialogue_id)",
            f"/list/samples?dialogue_id={mid_dialogue}",
        ),
        ("filtered", "rejects: stage + reason", "/list/rejects?stage=curate&reason=ai_disclaimer"),
        ("filtered", "prefs: emotion", "/list/prefs?emotion=grateful"),
        ("text", "curated: text, common word ('sorry')", "/list/curated?q=sorry"),
        ("text", "curated: text, a phrase ('empty flat next door')", "/list/curated?q=empty+flat+next+door"),
        ("text", "curated: text, no match (full scan)", "/list/curated?q=zzxqj"),
        ("text", "samples: text, the same phrase", "/list/samples?q=empty+flat+next+door"),
        (
            "deep",
            "samples: page from the second-to-last shard (keyset cursor)",
            f"/list/samples?after=samples/{deep_shard}:25000",
        ),
        ("record", "dialogue page (messages, scores, seed, reject lookup)", f"/find/curated?id={mid_dialogue}"),
        ("record", "last dialogue, by id", f"/find/curated?id={last}"),
        ("record", "sample window page", "/row/samples?" + urlencode({"shard": f"samples/{deep_shard}", "row": 12345})),
    ]


def measure(root: Path, counts: dict[str, int], repeats: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "distill.cli", "view", str(root)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        match = re.match(r"distill view: (http://127\.0\.0\.1:\d+/)", line)
        if not match:
            sys.exit(f"distill view did not start: {line!r}")
        base = match.group(1).rstrip("/")
        import psutil

        idle_rss = psutil.Process(proc.pid).memory_info().rss
        sampler = RssSampler(proc.pid)
        sampler.start()
        results = []
        for group, label, path in pages(root, counts):
            first, html = fetch(base + path)
            warm = [fetch(base + path)[0] for _ in range(repeats)]
            results.append(
                {
                    "group": group,
                    "label": label,
                    "path": path,
                    "first_s": round(first, 3),
                    "median_s": round(statistics.median(warm), 3),
                    "found": summary_of(html),
                }
            )
            print(f"{first:6.3f} s  {statistics.median(warm):6.3f} s  {label}  [{summary_of(html)}]", flush=True)
        sampler.stop.set()
        sampler.join()
        return {"pages": results, "rss_mb": {"idle": round(idle_rss / 2**20), "peak": round(sampler.peak / 2**20)}}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def report(data: dict[str, Any], args: argparse.Namespace) -> str:
    c, pages_ = data["counts"], data["pages"]
    worst = {
        g: max(p["first_s"] for p in pages_ if p["group"] == g) for g in ("first", "filtered", "text", "deep", "record")
    }
    rss = data["rss_mb"]
    lines = [
        "# Dataset viewer (`distill view`) on a 2M-sample run",
        "",
        f"Command: `python -m bench.view --dialogues {args.dialogues} --repeats {args.repeats}`",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, shared with other jobs; "
        f"{data['when']}; "
        f"1-min load average {data['load'][0]:.1f} before, {data['load'][1]:.1f} after.",
        f"Run folder (synthesized in {data['write_s']:.0f} s, {data['disk_mb']:,} MB of Parquet, deleted after): "
        f"{c['dialogues']:,} curated dialogues "
        f"of {TURNS} messages in 50,000-row shards, the same in {data['generated_shards']} generated unit shards, "
        f"{c['samples']:,} sample windows, "
        f"{c['prefs']:,} preference pairs, {c['rejects']:,} rejects in 2 stages; the shape of bench/results/scale.md's "
        "largest run. "
        "The viewer is the real CLI in its own process (DuckDB, 2 threads, 256 MB memory limit); each page is fetched "
        "over HTTP, "
        f"first (cold) and then {args.repeats} more times (median). Files are in the OS page cache.",
        "",
        "| page | first s | median s | rows matching |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| {p['label']} | {p['first_s']:.3f} | {p['median_s']:.3f} | {p['found']} |" for p in pages_]
    met = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    lines += [
        "",
        f"Slowest first page: {worst['first']:.2f} s (goal < 1 s: {met(worst['first'] < 1)}); slowest filtered page "
        "(emotion, mode, strategy, "
        f"scores, stage/reason, dialogue id): {worst['filtered']:.2f} s (goal < 2 s: {met(worst['filtered'] < 2)}); "
        f"viewer RSS {rss['idle']:,} MB idle, {rss['peak']:,} MB peak (goal < 500 MB: {met(rss['peak'] < 500)}).",
        f"Text search is a scan of the searched text (no index): {worst['text']:.2f} s at worst, a term that matches "
        "early returns its first page "
        "sooner; counts stop at 10,000 matches or after 1 s (then the page says so). "
        f"A deep page costs what the first does ({worst['deep']:.2f} s: keyset cursor, the scan starts at the cursor's "
        "shard); "
        f"record pages {worst['record']:.2f} s at worst (an id lookup scans the id column).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dialogues",
        type=int,
        default=333_408,
        help="curated dialogues (6 sample windows each); 333,408 = the scale run's 2,000,448 samples",
    )
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="bench-view-"))
    root = tmp / "view-2m"
    try:
        t0 = time.perf_counter()
        counts = synthesize(root, args.dialogues)
        write_s = time.perf_counter() - t0
        disk = sum(p.stat().st_size for p in root.rglob("*.parquet"))
        print(f"wrote {counts} in {write_s:.0f} s, {disk / 2**20:,.0f} MB", flush=True)
        measured = measure(root, counts, args.repeats)
        data = {
            "counts": counts,
            "write_s": round(write_s, 1),
            "disk_mb": round(disk / 2**20),
            "generated_shards": len(list((root / "generated").glob("*.parquet"))),
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load": [load_before, os.getloadavg()[0]],
            **measured,
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "view.json").write_text(json.dumps(data, indent=1) + "\n")
    text = report(data, args)
    (RESULTS / "view.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
