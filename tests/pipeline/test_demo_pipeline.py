"""`distill run --config demo` end to end (reduced size, same command path as `make demo`), then a rerun that skips everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from distill.shards import count_rows

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]

REDUCED = [
    "seeds.sources=[{path: bundled, limit: 8}]",
    "seeds.holdout_fraction=0.3",
    "generate.modes=[continue]",
    "generate.continue_turns=2",
    "generate.sampling.max_tokens=32",
    "train.num_workers=1",
    "train.max_steps=2",
    "train.max_seq_len=256",
    "eval.max_prompts=2",
    "eval.sampling.max_tokens=24",
    "eval.judge_max_tokens=24",
]


def distill_run(tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "distill.cli", "run", "--config", "demo", f"run.output_dir={tmp_path}", *REDUCED],
        capture_output=True, text=True, cwd=REPO, timeout=1200,
        env={**os.environ, "RAY_ADDRESS": "", "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def test_demo_runs_every_stage_and_resumes_as_a_no_op(tmp_path: Path) -> None:
    first = distill_run(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for stage in ("seeds", "generate", "curate", "train", "eval"):
        assert f"{stage}: done" in first.stdout
    run = tmp_path / "demo"
    for label in ("dataset", "checkpoint", "report"):
        assert f"{label}: " in first.stdout
    # Nothing lost: every seed, unit and dialogue is in an output or a reject.
    seeds = json.loads((run / "stats" / "seeds.json").read_text())["counters"]
    assert seeds["records_in"] == seeds["records_kept"] == 8
    plan, generated, gen_rejects = count_rows(run / "plan"), count_rows(run / "generated"), count_rows(run / "rejects" / "generate")
    assert plan == seeds["for_generation"] and generated + gen_rejects == plan
    assert count_rows(run / "curated") + count_rows(run / "rejects" / "curate") == generated
    export = run / "checkpoints" / "smollm2-135m-sft" / "hf"
    assert (export / "model.safetensors").exists() and (export / "README.md").exists()
    assert json.loads((run / "eval.json").read_text())
    assert "<html" in (run / "report.html").read_text()[:500].lower()

    again = distill_run(tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    for stage in ("seeds", "generate", "curate", "train", "eval"):
        assert f"{stage}: already done" in again.stdout
