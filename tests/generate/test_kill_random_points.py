"""SIGKILL `python -m ray_jobs.generate` (dryrun teacher on Ray actors) at three seeded random points, resuming in
between.

A kill lands after k more finished batches, or a random delay after this attempt's first finished batch (so it may
fall anywhere in a shard or marker write); the final rerun must leave every planned unit exactly once and stats that
add up over all attempts.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time

import pytest

from distill.config import load_config
from distill.generate.resume import done_batches
from distill.run_dir import RunDir
from distill.shards import iter_rows, iter_shard_batches, list_shards
from tests.support.launch import launch_generate, write_kill_config
from tests.support.seeds import write_seeds

SEED = int(os.environ.get("DISTILL_KILL_SEED", "8"))  # set it to explore other kill points; failures print it
UNITS = 12 * 2 * 2  # seeds x modes x variants, in batches of 2


def kill_plan(rng: random.Random) -> list[tuple[str, float]]:
    plan = [("batches", rng.randint(1, 4)), ("batches", rng.randint(1, 4)), ("delay_s", rng.uniform(0.0, 1.5))]
    rng.shuffle(plan)
    return plan


def units_done(run: RunDir) -> int:
    return sum(m["units"] for m in done_batches(run.generated).values())


def rows_in_done_batches(run: RunDir) -> int:
    """Rows (dialogues + rejects) in the shards of batches marked done, each read back and checked against its
    digest."""
    done = done_batches(run.generated)
    rows = 0
    for folder in (run.generated, run.rejects("generate")):
        for info in list_shards(folder):
            if info.path.name[: len("units-000000")] in done:
                rows += sum(b.num_rows for b in iter_shard_batches(info, verify_digest=True))
    return rows


def run_until_killed(config, run: RunDir, kind: str, amount: float) -> None:
    start_batches = len(done_batches(run.generated))
    proc = launch_generate(config)
    try:
        wanted = amount if kind == "batches" else 1
        deadline = time.monotonic() + 60
        while len(done_batches(run.generated)) < start_batches + wanted:
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            assert time.monotonic() < deadline, f"{wanted} batches did not finish in 60 s"
            time.sleep(0.02)
        if kind == "delay_s":
            time.sleep(amount)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the driver and the Ray it started go down together, like a lost node
        proc.wait()


@pytest.mark.slow
def test_three_random_sigkills_then_a_rerun_yield_every_planned_unit_once(tmp_path):
    config = write_kill_config(tmp_path, "kill3", dryrun_latency_s=0.3)
    cfg = load_config(config)
    write_seeds(cfg, 12)
    run = RunDir(cfg)

    kills = kill_plan(random.Random(SEED))
    for kind, amount in kills:
        run_until_killed(config, run, kind, amount)
        print(f"killed after {kind}={amount:.2f}: {units_done(run)}/{UNITS} units done")
        assert not run.stage_done("generate"), (
            f"seed {SEED}: kill {kind}={amount} came after the end; make the run longer"
        )
        # A batch marked done is whole: its shards hold exactly its units (a kill between shard and marker is redone
        # later).
        assert rows_in_done_batches(run) == units_done(run), f"seed {SEED}: kills {kills}"
    done_before_final = units_done(run)
    assert 0 < done_before_final < UNITS, f"seed {SEED}: kills {kills}"

    final = launch_generate(config)
    out, _ = final.communicate(timeout=120)
    assert final.returncode == 0, out[-3000:]
    assert run.stage_done("generate")
    plan = [r["id"] for r in iter_rows(run.plan)]
    generated = [r["id"] for r in iter_rows(run.generated, verify_digest=True)]
    rejected = [r["id"] for r in iter_rows(run.rejects("generate"))]
    ids = generated + rejected
    assert len(plan) == UNITS == len(set(plan))
    assert len(ids) == len(set(ids)), f"seed {SEED}, kills {kills}: a unit was written twice"
    assert set(ids) == set(plan), f"seed {SEED}, kills {kills}: units lost or invented"

    stats = json.loads((run.root / "stats" / "generate.json").read_text())
    c = stats["counters"]
    assert c["units"] == c["units_planned"] == UNITS
    assert c["dialogues"] == len(generated) and c.get("rejected", 0) == len(rejected)
    assert stats["info"]["batches"] == UNITS // 2 == len(done_batches(run.generated))
    assert stats["info"]["this_invocation"]["units"] == UNITS - done_before_final
