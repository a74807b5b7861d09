"""SIGKILL `python -m ray_jobs.generate` mid-run (teacher actors on a real local Ray), rerun: every planned unit
exactly once."""

from __future__ import annotations

import os
import signal
import time

import pytest
import yaml

from distill.config import load_config
from distill.generate.resume import done_batches
from distill.run_dir import RunDir
from distill.shards import iter_rows
from tests.support.launch import launch_generate, write_kill_config
from tests.support.seeds import write_seeds


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_yields_the_planned_ids_once(tmp_path):
    config = write_kill_config(tmp_path, "kill", dryrun_latency_s=0.25)
    cfg = load_config(config)
    write_seeds(cfg, 12)  # 12 seeds x 2 modes x 2 variants = 48 units in 24 batches of 2
    run = RunDir(cfg)

    proc = launch_generate(config)
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

    proc = launch_generate(config)
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
