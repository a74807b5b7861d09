"""SIGKILL `python -m ray_jobs.generate` mid-run (teacher actors on a real local Ray), rerun: every planned unit exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from distill.config import load_config
from distill.generate.resume import done_batches
from distill.run_dir import RunDir
from distill.shards import iter_rows

from .conftest import write_seeds

REPO = Path(__file__).resolve().parents[2]


def launch(config: Path, *extra: str) -> subprocess.Popen:
    # Own session, so the whole process tree (driver + the Ray it started) can be killed like a node going down.
    return subprocess.Popen(
        [sys.executable, "-m", "ray_jobs.generate", "--config", str(config), *extra],
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "RAY_ADDRESS": "", "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_yields_the_planned_ids_once(tmp_path):
    data = {
        "run": {"name": "kill", "output_dir": str(tmp_path / "runs")},
        "teacher": {"backend": "dryrun", "placement": "ray", "num_actors": 2, "dryrun_latency_s": 0.25},
        "generate": {"modes": ["continue", "selfchat"], "variants_per_seed": 2, "units_per_shard": 2, "selfchat_turns": 2, "continue_turns": 1},
    }
    config = tmp_path / "gen.yaml"
    config.write_text(yaml.safe_dump(data))
    cfg = load_config(config)
    write_seeds(cfg, 12)  # 12 seeds x 2 modes x 2 variants = 48 units in 24 batches of 2
    run = RunDir(cfg)

    proc = launch(config)
    try:
        deadline = time.monotonic() + 90
        while len(done_batches(run.generated)) < 3:
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "no batch finished in 90 s"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed_at = len(done_batches(run.generated))
    assert 3 <= killed_at < 24, "the kill must land mid-run"
    assert not run.stage_done("generate")

    proc = launch(config)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out[-3000:]
    plan = [r["id"] for r in iter_rows(run.plan)]
    ids = [r["id"] for r in iter_rows(run.generated)] + [r["id"] for r in iter_rows(run.rejects("generate"))]
    assert len(plan) == 48 and len(set(plan)) == 48
    assert len(ids) == len(set(ids)), "a unit was written twice"
    assert set(ids) == set(plan)
    assert run.stage_done("generate")
    stats = yaml.safe_load((run.root / "stats" / "generate.json").read_text())
    assert stats["counters"]["units"] == 48 and stats["info"]["this_invocation"]["units"] == 48 - 2 * killed_at
