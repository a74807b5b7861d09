"""`distill run --config demo` end to end (reduced size, same command path as `make demo`), then a rerun that skips
everything.

What a person sees is part of the contract: a short console of our own lines (a summary per stage, the funnel, where the
outputs are), with every engine's output in the run's logs/ instead."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from distill.shards import count_rows
from tests.support.launch import run_distill

pytestmark = pytest.mark.slow

REDUCED = [
    "seeds.sources=[{path: bundled, limit: 8}]",
    "seeds.holdout_fraction=0.3",
    "generate.modes=[continue]",
    "generate.continue_turns=2",
    "generate.sampling.max_tokens=32",
    # Pairs from other dialogues only: auto's teacher path has its own test (tests/curate), and here it would start
    # one more engine for the emotions whose opposite was held out.
    "curate.preference_method=cross_dialogue",
    "train.num_workers=1",
    "train.max_steps=2",
    "train.max_seq_len=256",
    "eval.max_prompts=2",
    "eval.sampling.max_tokens=24",
    "eval.judge_max_tokens=24",
]


def distill_run(tmp_path: Path) -> subprocess.CompletedProcess:
    return run_distill("--config", "demo", f"run.output_dir={tmp_path}", *REDUCED, timeout_s=1200)


STAGES = ("seeds", "generate", "curate", "train", "eval")
MAX_CONSOLE_LINES = 40
ENGINE_MARKERS = ("INFO", "WARNING 1", "EngineCore", "pid=", "[W", "Loading safetensors", "deepspeed", "Traceback")


def logs_tail(run: Path) -> str:
    return "".join(f"\n--- {p}\n" + p.read_text(errors="replace")[-2000:] for p in sorted((run / "logs").glob("*.log")))


def test_demo_runs_every_stage_and_resumes_as_a_no_op(tmp_path: Path) -> None:
    first = distill_run(tmp_path)
    run = tmp_path / "demo"
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:] + logs_tail(run)
    # The console: our lines only, few of them; the engines' output is in one log per stage.
    console = (first.stdout + first.stderr).splitlines()
    assert len(console) <= MAX_CONSOLE_LINES, "\n".join(console)
    assert not [line for line in console if any(m in line for m in ENGINE_MARKERS)], "\n".join(console)
    for stage in STAGES:
        assert any(line.startswith(f"{stage}: ") for line in first.stdout.splitlines()), first.stdout
    assert "funnel: 8 seeds" in first.stdout
    assert "vLLM" in (run / "logs" / "generate.log").read_text(errors="replace")  # the teacher actor's engine chatter
    assert (run / "logs" / "train.log").stat().st_size > 0 and (run / "logs" / "eval.log").stat().st_size > 0
    for label in ("dataset", "checkpoint", "report"):
        assert f"{label}: " in first.stdout
    # Nothing lost: every seed, unit and dialogue is in an output or a reject.
    seeds = json.loads((run / "stats" / "seeds.json").read_text())["counters"]
    assert seeds["records_in"] == seeds["records_kept"] == 8
    plan, generated, gen_rejects = (
        count_rows(run / "plan"),
        count_rows(run / "generated"),
        count_rows(run / "rejects" / "generate"),
    )
    assert plan == seeds["for_generation"] and generated + gen_rejects == plan
    assert count_rows(run / "curated") + count_rows(run / "rejects" / "curate") == generated
    export = run / "checkpoints" / "smollm2-135m-sft" / "hf"
    assert (export / "model.safetensors").exists() and (export / "README.md").exists()
    assert json.loads((run / "eval.json").read_text())
    assert "<html" in (run / "report.html").read_text()[:500].lower()

    again = distill_run(tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    for stage in STAGES:
        assert f"{stage}: already done" in again.stdout
